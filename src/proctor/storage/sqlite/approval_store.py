"""Approvals in the SQLite state file; opening, deciding and using one are each atomic."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from proctor.limits.approvals import Approval, ApprovalStatus
from proctor.storage.memory_state import check_decidable
from proctor.storage.sqlite.state_db import StateDatabase

_OPEN = (
    "SELECT body FROM approvals WHERE call_hash = ? AND status = ? AND expires_at > ? "
    "ORDER BY created_at LIMIT 1"
)


class SqliteApprovalStore:
    def __init__(self, database: StateDatabase) -> None:
        self._db = database

    def open_request(self, approval: Approval, now: datetime) -> Approval:
        with self._db.transaction("opening an approval") as conn:
            row = conn.execute(
                _OPEN, (approval.call_hash, ApprovalStatus.PENDING.value, _key(now))
            ).fetchone()
            if row is not None:
                return _decode(row[0])
            _write(conn, approval, insert=True)
            return approval

    def consume(self, call_hash: str, now: datetime, decision_id: str) -> Approval | None:
        with self._db.transaction("using an approval") as conn:
            row = conn.execute(
                _OPEN, (call_hash, ApprovalStatus.APPROVED.value, _key(now))
            ).fetchone()
            if row is None:
                return None
            found = _decode(row[0])
            used = replace(found, status=ApprovalStatus.CONSUMED, consumed_by_decision=decision_id)
            _write(conn, used, insert=False)
            return used

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        with self._db.transaction("deciding an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = ?", (approval_id,)
            ).fetchone()
            found = _decode(row[0]) if row is not None else None
            check_decidable(found, approval_id, now)
            assert found is not None
            status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
            decided = found.decided(status, by, reason, now)
            _write(conn, decided, insert=False)
            return decided

    def get(self, approval_id: str) -> Approval | None:
        with self._db.reading("reading an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = ?", (approval_id,)
            ).fetchone()
        return None if row is None else _decode(row[0])

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        query = "SELECT body FROM approvals"
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status,)
        query += " ORDER BY created_at DESC, approval_id DESC LIMIT ?"
        with self._db.reading("listing approvals") as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [_decode(row[0]) for row in rows]

    def close(self) -> None:
        self._db.close()


def _key(moment: datetime) -> str:
    """Sortable text for a moment (UTC, fixed width), so SQL can compare expiries."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write(conn: Any, approval: Approval, *, insert: bool) -> None:
    body = orjson.dumps(_encode(approval)).decode()
    if insert:
        conn.execute(
            "INSERT INTO approvals (approval_id, call_hash, status, created_at, expires_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                approval.approval_id,
                approval.call_hash,
                approval.status.value,
                _key(approval.created_at),
                _key(approval.expires_at),
                body,
            ),
        )
    else:
        conn.execute(
            "UPDATE approvals SET status = ?, body = ? WHERE approval_id = ?",
            (approval.status.value, body, approval.approval_id),
        )


def _encode(approval: Approval) -> dict[str, Any]:
    body = approval.to_dict()
    for name in ("created_at", "expires_at", "decided_at"):
        value = getattr(approval, name)
        body[name] = value.isoformat() if value is not None else None
    return body


def _decode(text: str) -> Approval:
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
