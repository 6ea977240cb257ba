"""Approvals over a SQL database; opening, deciding and using one are each atomic.

An approval is kept as a JSON body (with ISO times); its status and times are
also columns, the times as fixed-width UTC text, which sorts and compares
correctly in SQL. Where the dialect locks rows (PostgreSQL), a transaction
locks the approval it decides or uses, and opening one takes a lock on the
call's hash, so two replicas never open two approvals for one call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from proctor.model.approvals import Approval, ApprovalStatus
from proctor.storage.memory_state import check_decidable, released
from proctor.storage.sql.dialect import Closing, Statements

# the same on every backend (SQLite's state file, PostgreSQL's migration 2)
APPROVALS_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS approvals (
        approval_id TEXT PRIMARY KEY,
        call_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        body TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS approvals_call ON approvals (call_hash, status)",
)
_OPEN = (
    "SELECT body FROM approvals WHERE call_hash = ? AND status = ? AND expires_at > ? "
    "ORDER BY created_at LIMIT 1"
)
_BY_ID = "SELECT body FROM approvals WHERE approval_id = ?"
_INSERT = (
    "INSERT INTO approvals (approval_id, call_hash, status, created_at, expires_at, body) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_UPDATE = "UPDATE approvals SET status = ?, body = ? WHERE approval_id = ?"


class SqlApprovalStore(Closing):
    """``ApprovalStore`` over a backend's ``SqlDatabase``."""

    def open_request(self, approval: Approval, now: datetime) -> Approval:
        with self._db.transaction("opening an approval") as sql:
            sql.lock_key(approval.call_hash)  # one opener at a time per call
            found = _open(sql, approval.call_hash, ApprovalStatus.PENDING, now)
            if found is not None:
                return found
            sql.run(
                _INSERT,
                (
                    approval.approval_id,
                    approval.call_hash,
                    approval.status.value,
                    time_key(approval.created_at),
                    time_key(approval.expires_at),
                    approval_body(approval),
                ),
            )
            return approval

    def consume(self, call_hash: str, now: datetime, decision_id: str) -> Approval | None:
        with self._db.transaction("using an approval") as sql:
            found = _open(sql, call_hash, ApprovalStatus.APPROVED, now)
            if found is None:
                return None
            used = replace(found, status=ApprovalStatus.CONSUMED, consumed_by_decision=decision_id)
            _update(sql, used)
            return used

    def release(self, approval_id: str, decision_id: str) -> None:
        with self._db.transaction("handing back an approval") as sql:
            found = _by_id(sql, approval_id, sql.dialect.row_lock)
            if found is not None and released(found, decision_id):
                restored = replace(found, status=ApprovalStatus.APPROVED, consumed_by_decision=None)
                _update(sql, restored)

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        with self._db.transaction("deciding an approval") as sql:
            found = _by_id(sql, approval_id, sql.dialect.row_lock)
            check_decidable(found, approval_id, now)
            assert found is not None
            status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
            decided = found.decided(status, by, reason, now)
            _update(sql, decided)
            return decided

    def get(self, approval_id: str) -> Approval | None:
        with self._db.reading("reading an approval") as sql:
            return _by_id(sql, approval_id)

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        query = "SELECT body FROM approvals"
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status,)
        query += " ORDER BY created_at DESC, approval_id DESC LIMIT ?"
        with self._db.reading("listing approvals") as sql:
            rows = sql.all(query, (*params, limit))
        return [approval_from_body(row[0]) for row in rows]


def _open(
    sql: Statements, call_hash: str, status: ApprovalStatus, now: datetime
) -> Approval | None:
    """The oldest unexpired approval of the call in ``status`` (locked where rows are)."""
    row = sql.one(_OPEN + sql.dialect.row_lock, (call_hash, status.value, time_key(now)))
    return approval_from_body(row[0]) if row is not None else None


def _by_id(sql: Statements, approval_id: str, lock: str = "") -> Approval | None:
    row = sql.one(_BY_ID + lock, (approval_id,))
    return approval_from_body(row[0]) if row is not None else None


def _update(sql: Statements, approval: Approval) -> None:
    sql.run(_UPDATE, (approval.status.value, approval_body(approval), approval.approval_id))


def time_key(moment: datetime) -> str:
    """Sortable text for a moment (UTC, fixed width), so SQL can compare expiries."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# the moments a body keeps exact (``Approval.to_dict`` rounds them to the second)
_MOMENTS = ("created_at", "expires_at", "decided_at")


def approval_body(approval: Approval) -> str:
    """The stored form: ``Approval.to_dict``, one key a field, with the moments exact."""
    body: dict[str, Any] = approval.to_dict()
    for name in _MOMENTS:
        value = getattr(approval, name)
        body[name] = value.isoformat() if value is not None else None
    return orjson.dumps(body).decode()


def approval_from_body(text: str) -> Approval:
    """The approval ``approval_body`` stored: its keys are the fields."""
    body = orjson.loads(text)
    for name in _MOMENTS:
        body[name] = datetime.fromisoformat(body[name]) if body[name] else None
    body["approvers"] = tuple(body["approvers"])
    body["status"] = ApprovalStatus(body["status"])
    return Approval(**body)
