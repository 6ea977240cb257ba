"""Approvals in the SQLite state file; opening, deciding and using one are each atomic."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from proctor.limits.approvals import Approval, ApprovalStatus
from proctor.storage.memory_state import check_decidable, released
from proctor.storage.sqlite.state_db import StateDatabase
from proctor.storage.state_rows import approval_body, approval_from_body, time_key

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
                _OPEN, (approval.call_hash, ApprovalStatus.PENDING.value, time_key(now))
            ).fetchone()
            if row is not None:
                return approval_from_body(row[0])
            _write(conn, approval, insert=True)
            return approval

    def consume(self, call_hash: str, now: datetime, decision_id: str) -> Approval | None:
        with self._db.transaction("using an approval") as conn:
            row = conn.execute(
                _OPEN, (call_hash, ApprovalStatus.APPROVED.value, time_key(now))
            ).fetchone()
            if row is None:
                return None
            found = approval_from_body(row[0])
            used = replace(found, status=ApprovalStatus.CONSUMED, consumed_by_decision=decision_id)
            _write(conn, used, insert=False)
            return used

    def release(self, approval_id: str, decision_id: str) -> None:
        with self._db.transaction("handing back an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = ?", (approval_id,)
            ).fetchone()
            found = approval_from_body(row[0]) if row is not None else None
            if found is not None and released(found, decision_id):
                restored = replace(found, status=ApprovalStatus.APPROVED, consumed_by_decision=None)
                _write(conn, restored, insert=False)

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        with self._db.transaction("deciding an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = ?", (approval_id,)
            ).fetchone()
            found = approval_from_body(row[0]) if row is not None else None
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
        return None if row is None else approval_from_body(row[0])

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        query = "SELECT body FROM approvals"
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status,)
        query += " ORDER BY created_at DESC, approval_id DESC LIMIT ?"
        with self._db.reading("listing approvals") as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [approval_from_body(row[0]) for row in rows]

    def close(self) -> None:
        self._db.close()


def _write(conn: Any, approval: Approval, *, insert: bool) -> None:
    body = approval_body(approval)
    if insert:
        conn.execute(
            "INSERT INTO approvals (approval_id, call_hash, status, created_at, expires_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                approval.approval_id,
                approval.call_hash,
                approval.status.value,
                time_key(approval.created_at),
                time_key(approval.expires_at),
                body,
            ),
        )
    else:
        conn.execute(
            "UPDATE approvals SET status = ?, body = ? WHERE approval_id = ?",
            (approval.status.value, body, approval.approval_id),
        )
