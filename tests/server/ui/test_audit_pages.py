"""A decision's page with everything filled in: delegation, findings, taint, shadow (in-process)."""

from __future__ import annotations

from typing import Any

from proctor.model.audit_event import AuditEvent
from tests.server.ui.conftest import AUDITOR_KEY, signed_in_client


def test_a_record_with_findings_taint_and_delegation(dashboard_app: Any) -> None:
    audit = dashboard_app.app.state.gateway.runtime.audit
    audit.append(
        AuditEvent(
            kind="decision",
            decision_id="dec-ui-findings",
            ts="2026-11-27T10:00:00.000000Z",
            agent={"id": "support-bot", "role": "support", "tier": "verified", "tags": []},
            action="write:email",
            effect="deny",
            reason="the recipient came from a tool's output",
            user={"sub": "alice", "claims": {"tenant": "shop"}},
            delegation=({"sub": "support-bot"}, {"sub": "mail-bot"}),
            args={"to": "[redacted:pii.email]", "body": "hello"},
            args_digest="sha256:" + "0" * 64,
            rule_ids=("no-tainted-recipients",),
            shadow={"effect": "deny", "rule_ids": ["strict#1"], "reason": "strict mode"},
            extra={
                "findings": [
                    {
                        "type": "pii.email",
                        "start": 0,
                        "end": 17,
                        "score": 0.99,
                        "scanner": "pii",
                        "detail": "validated address",
                        "path": "to",
                    }
                ],
                "taint": {"to": {"tool": "read:inbox", "call": "dec-earlier"}},
            },
        ),
        wait=True,
    )
    signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    page = dashboard_app.get("/ui/decisions/dec-ui-findings")
    assert page.status_code == 200
    text = page.text
    order = [
        text.index("1. Who asked"),
        text.index("mail-bot"),  # the delegation chain
        text.index("2. What permissions were held"),
        text.index("3. What data"),
        text.index("[redacted:pii.email]"),
        text.index("4. What was scanned and found"),
        text.index("pii.email</code>"),
        text.index("read:inbox"),  # the taint
        text.index("5. Which rules and limits decided"),
        text.index("no-tainted-recipients"),
        text.index("strict mode"),
        text.index("chain status"),
    ]
    assert order == sorted(order)
    assert "Intact" in text


def test_an_unknown_record_is_a_404_page(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    page = dashboard_app.get("/ui/decisions/nope")
    assert page.status_code == 404
    assert "no audit record `nope`" in page.text


def test_a_bad_time_filter_is_explained(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    page = dashboard_app.get("/ui/feed", params={"since": "yesterday"})
    assert page.status_code == 200
    assert "is not a date and time" in page.text
    assert dashboard_app.get("/ui/feed", params={"before": "x"}).status_code == 400


def test_cursors_past_any_record_number_are_read_not_a_500(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "auditor", AUDITOR_KEY)
    huge = "9" * 40
    whole = dashboard_app.get("/ui/feed")
    page = dashboard_app.get("/ui/feed", params={"before": huge})
    assert page.status_code == 200
    assert page.text.count("<tr") == whole.text.count("<tr")  # every record is before it
    for after in (huge, str(2**63), "1" + "0" * 5000):
        rows = dashboard_app.get("/ui/feed/newer", params={"after": after})
        assert rows.status_code == 200, after
        assert "<tr" not in rows.text
    for odd in ("²", "٣", "-1", "1e9", " 1"):
        assert dashboard_app.get("/ui/feed", params={"before": odd}).status_code == 400
        assert dashboard_app.get("/ui/feed/newer", params={"after": odd}).status_code == 400
