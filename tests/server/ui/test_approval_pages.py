"""The approvals queue in-process: a reason is required, and the approver rules apply."""

from __future__ import annotations

from typing import Any

from tests.server.ui.conftest import CAROL_KEY, PEP_KEY, ROOT_KEY, signed_in_client

ORIGIN = {"Origin": "http://testserver"}


def _held(client: Any, user: str, amount: float) -> str:
    answer = client.post(
        "/v1/check",
        json={
            "action": "write:refund",
            "agent": "support-bot",
            "user": user,
            "args": {"order_id": f"Q-{amount}", "amount": amount},
        },
        headers={"Authorization": f"Bearer {PEP_KEY}"},
    ).json()
    assert answer["effect"] == "require_approval", answer
    desk = client.app.state.gateway.approvals
    pending = [a for a in desk.list("pending") if a.requested_by_decision == answer["decision_id"]]
    return str(pending[0].approval_id)


def test_a_decision_needs_a_reason(dashboard_app: Any) -> None:
    approval_id = _held(dashboard_app, "dave", 210)
    token = signed_in_client(dashboard_app, "carol", CAROL_KEY)
    answer = dashboard_app.post(
        f"/ui/approvals/{approval_id}/approve",
        data={"csrf": token, "reason": "  "},
        headers=ORIGIN,
    )
    assert "give a reason" in answer.text
    desk = dashboard_app.app.state.gateway.approvals
    assert desk.get(approval_id).status.value == "pending"


def test_the_rule_s_approvers_apply(dashboard_app: Any) -> None:
    approval_id = _held(dashboard_app, "dave", 220)
    token = signed_in_client(dashboard_app, "root", ROOT_KEY)  # `root` is no support manager
    answer = dashboard_app.post(
        f"/ui/approvals/{approval_id}/approve",
        data={"csrf": token, "reason": "looks fine"},
        headers=ORIGIN,
    )
    assert "not decided" in answer.text
    assert "is not among the approvers" in answer.text
    desk = dashboard_app.app.state.gateway.approvals
    assert desk.get(approval_id).status.value == "pending"


def test_the_record_names_the_dashboard_session_as_the_credential(dashboard_app: Any) -> None:
    approval_id = _held(dashboard_app, "dave", 230)
    token = signed_in_client(dashboard_app, "carol", CAROL_KEY)
    dashboard_app.post(
        f"/ui/approvals/{approval_id}/approve",
        data={"csrf": token, "reason": "known customer"},
        headers=ORIGIN,
    )
    state = dashboard_app.app.state.gateway
    assert state.approvals.get(approval_id).decided_by == "carol"
    state.runtime.audit.flush()
    record = next(r for r in state.runtime.audit.tail(20) if r["kind"] == "approval")
    assert record["extra"]["credential"] == {"kind": "dashboard", "admin_key": "carol"}


def test_text_that_reorders_or_hides_itself_is_shown_as_escapes(dashboard_app: Any) -> None:
    # an IBAN whose tail a bidi override shows reversed, a user with a zero-width space
    iban = "DE89 3704 0044 0532 0130 00\u202e99 88"
    answer = dashboard_app.post(
        "/v1/check",
        json={
            "action": "write:refund",
            "agent": "support-bot",
            "user": "dave",
            "args": {"order_id": iban, "amount": 320, "note\u2066": "a\u200bb\u0085c"},
        },
        headers={"Authorization": f"Bearer {PEP_KEY}"},
    ).json()
    assert answer["effect"] == "require_approval", answer
    denied = dashboard_app.post(
        "/v1/check",
        json={"action": "write:refund", "agent": "support-bot", "user": "ro\u200bot\u202e",
              "args": {"order_id": "Z-1", "amount": 5}},
        headers={"Authorization": f"Bearer {PEP_KEY}"},
    ).json()  # fmt: skip
    signed_in_client(dashboard_app, "carol", CAROL_KEY)
    pages = {
        "approvals": dashboard_app.get("/ui/approvals").text,
        "held": dashboard_app.get(f"/ui/decisions/{answer['decision_id']}").text,
        "denied": dashboard_app.get(f"/ui/decisions/{denied['decision_id']}").text,
        "feed": dashboard_app.get("/ui/feed").text,
    }
    for name, text in pages.items():
        for hidden in ("\u202e", "\u200b", "\u2066", "\u0085"):
            assert hidden not in text, (name, hex(ord(hidden)))
    assert "0130 00\\u202e99 88" in pages["approvals"]
    assert "a\\u200bb\\u0085c" in pages["held"]
    assert "note\\u2066" in pages["held"]
    assert "ro\\u200bot\\u202e" in pages["denied"]
