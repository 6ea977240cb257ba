"""An approval's stored body gives back the same approval, every field and exact moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from proctor.model.approvals import Approval, ApprovalStatus
from proctor.storage.sql.approvals import approval_body, approval_from_body

AT = datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC)


def test_an_approval_round_trips_through_its_stored_body() -> None:
    pending = Approval(
        approval_id="ap-1",
        call_hash="c" * 64,
        action="refund",
        agent="bot",
        user=None,
        rule_id="big-refunds",
        approvers=("role:lead", "user:*@shop.example"),
        created_at=AT,
        expires_at=AT + timedelta(hours=1),
        requested_by_decision="d-1",
        args={"amount": 120, "order": {"id": "A1"}},
        run_id="run-7",
    )
    decided = replace(
        pending.decided(ApprovalStatus.APPROVED, "lead@shop.example", "ok", AT),
        status=ApprovalStatus.CONSUMED,
        consumed_by_decision="d-2",
    )
    for approval in (pending, decided):
        assert approval_from_body(approval_body(approval)) == approval
