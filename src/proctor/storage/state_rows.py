"""How approvals and runs are written in the SQL state stores (SQLite and PostgreSQL alike).

An approval is kept as a JSON body (with ISO times); its times are also kept
as fixed-width UTC text, which sorts and compares correctly in SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from proctor.limits.approvals import Approval, ApprovalStatus
from proctor.limits.runs import RunRecord


def time_key(moment: datetime) -> str:
    """Sortable text for a moment (UTC, fixed width), so SQL can compare expiries."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def approval_body(approval: Approval) -> str:
    body: dict[str, Any] = approval.to_dict()
    for name in ("created_at", "expires_at", "decided_at"):
        value = getattr(approval, name)
        body[name] = value.isoformat() if value is not None else None
    return orjson.dumps(body).decode()


def approval_from_body(text: str) -> Approval:
    body = orjson.loads(text)
    return Approval(
        approval_id=body["approval_id"],
        call_hash=body["call_hash"],
        action=body["action"],
        agent=body["agent"],
        user=body["user"],
        rule_id=body["rule_id"],
        approvers=tuple(body["approvers"]),
        created_at=datetime.fromisoformat(body["created_at"]),
        expires_at=datetime.fromisoformat(body["expires_at"]),
        requested_by_decision=body["requested_by_decision"],
        status=ApprovalStatus(body["status"]),
        args=body["args"],
        run_id=body["run_id"],
        decided_by=body["decided_by"],
        decided_at=datetime.fromisoformat(body["decided_at"]) if body["decided_at"] else None,
        reason=body["reason"],
        consumed_by_decision=body["consumed_by_decision"],
    )


def run_from_row(row: tuple[Any, ...]) -> RunRecord:
    """A ``runs`` row in the order run_id, started_at, agent, user_sub, ended_at."""
    run_id, started, agent, user, ended = row
    return RunRecord(
        run_id,
        datetime.fromisoformat(started),
        agent,
        user,
        datetime.fromisoformat(ended) if ended else None,
    )
