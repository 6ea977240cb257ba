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
