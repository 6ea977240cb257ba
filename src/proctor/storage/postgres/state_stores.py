"""Counters, runs and approvals in PostgreSQL, atomic across replicas.

A charge locks its counter rows (``INSERT ... ON CONFLICT DO NOTHING`` then
``SELECT ... FOR UPDATE``, in key order so two replicas never deadlock) and
checks and increments them in one transaction; approvals lock the row they
decide or use. Same semantics as the SQLite stores, same contract tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from proctor.limits.approvals import Approval, ApprovalStatus
from proctor.limits.counters import ChargeResult, CounterCharge, fits
from proctor.limits.errors import RUN_NOT_FOUND, LimitsError
from proctor.limits.ports import StateStores
from proctor.limits.runs import RunRecord
from proctor.storage.memory_state import check_decidable, released
from proctor.storage.postgres.connection import open_pool, transaction
from proctor.storage.state_rows import approval_body, approval_from_body, run_from_row, time_key


class _Shared:
    """One pool for the three stores; closed when the last of them closes."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self.users = 3

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self.pool.close()


class PostgresCounterStore:
    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._closed = False

    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        refused: ChargeResult | None = None
        with transaction(self._shared.pool, "charging counters") as conn:
            keys = sorted(
                {(c.key, c.window_start, c.window_seconds) for c in charges}
                | {
                    (c.key, c.window_start - c.window_seconds, c.window_seconds)
                    for c in charges
                    if c.previous_weight > 0
                }
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO limit_counters (key, window_start, window_seconds, total) "
                    "VALUES (%s, %s, %s, 0) ON CONFLICT DO NOTHING",
                    keys,
                )
            totals: dict[tuple[str, int], float] = {}
            for key, start, _seconds in keys:
                row = conn.execute(
                    "SELECT total FROM limit_counters WHERE key = %s AND window_start = %s "
                    "FOR UPDATE",
                    (key, start),
                ).fetchone()
                totals[(key, start)] = float(row[0]) if row is not None else 0.0
            used: list[float] = []
            for index, item in enumerate(charges):
                current = totals[(item.key, item.window_start)]
                if item.previous_weight > 0:
                    previous = totals[(item.key, item.window_start - item.window_seconds)]
                    current += previous * item.previous_weight
                if not fits(current, item.amount, item.ceiling):
                    used.append(current)
                    refused = ChargeResult(False, tuple(used), index)
                    raise psycopg.Rollback()  # the zero rows inserted above go too
                used.append(current + item.amount)
            with conn.cursor() as cursor:
                cursor.executemany(
                    "UPDATE limit_counters SET total = total + %s "
                    "WHERE key = %s AND window_start = %s",
                    [(c.amount, c.key, c.window_start) for c in charges],
                )
        if refused is not None:
            return refused
        return ChargeResult(True, tuple(used))

    def value(self, key: str, window_start: int) -> float:
        with transaction(self._shared.pool, "reading a counter") as conn:
            row = conn.execute(
                "SELECT total FROM limit_counters WHERE key = %s AND window_start = %s",
                (key, window_start),
            ).fetchone()
        return float(row[0]) if row is not None else 0.0

    def prune(self, now: int) -> int:
        with transaction(self._shared.pool, "pruning counters") as conn:
            cursor = conn.execute(
                "DELETE FROM limit_counters "
                "WHERE window_seconds > 0 AND window_start + 2 * window_seconds <= %s",
                (now,),
            )
            return cursor.rowcount

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shared.release()


_RUN = "SELECT run_id, started_at, agent, user_sub, ended_at FROM runs WHERE run_id = %s"


class PostgresRunStore:
    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._closed = False

    def start(self, run_id: str, at: datetime, *, agent: str, user: str | None) -> RunRecord:
        with transaction(self._shared.pool, "starting a run") as conn:
            conn.execute(
                "INSERT INTO runs (run_id, started_at, agent, user_sub) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (run_id) DO NOTHING",
                (run_id, at.isoformat(), agent, user),
            )
            row = conn.execute(_RUN, (run_id,)).fetchone()
        assert row is not None
        return run_from_row(row)

    def end(self, run_id: str, at: datetime) -> RunRecord:
        with transaction(self._shared.pool, "ending a run") as conn:
            conn.execute(
                "UPDATE runs SET ended_at = %s WHERE run_id = %s AND ended_at IS NULL",
                (at.isoformat(), run_id),
            )
            row = conn.execute(_RUN, (run_id,)).fetchone()
        if row is None:
            raise LimitsError(f"no run `{run_id}`", code=RUN_NOT_FOUND)
        return run_from_row(row)

    def get(self, run_id: str) -> RunRecord | None:
        with transaction(self._shared.pool, "reading a run") as conn:
            row = conn.execute(_RUN, (run_id,)).fetchone()
        return None if row is None else run_from_row(row)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shared.release()


_OPEN = (
    "SELECT body FROM approvals WHERE call_hash = %s AND status = %s AND expires_at > %s "
    "ORDER BY created_at LIMIT 1 FOR UPDATE"
)


class PostgresApprovalStore:
    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._closed = False

    def open_request(self, approval: Approval, now: datetime) -> Approval:
        with transaction(self._shared.pool, "opening an approval") as conn:
            # one opener at a time per call: a transaction-scoped lock on the call's hash
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (approval.call_hash,))
            row = conn.execute(
                _OPEN, (approval.call_hash, ApprovalStatus.PENDING.value, time_key(now))
            ).fetchone()
            if row is not None:
                return approval_from_body(row[0])
            conn.execute(
                "INSERT INTO approvals (approval_id, call_hash, status, created_at, expires_at, "
                "body) VALUES (%s, %s, %s, %s, %s, %s)",
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
        with transaction(self._shared.pool, "using an approval") as conn:
            row = conn.execute(
                _OPEN, (call_hash, ApprovalStatus.APPROVED.value, time_key(now))
            ).fetchone()
            if row is None:
                return None
            used = replace(
                approval_from_body(row[0]),
                status=ApprovalStatus.CONSUMED,
                consumed_by_decision=decision_id,
            )
            _update(conn, used)
            return used

    def release(self, approval_id: str, decision_id: str) -> None:
        with transaction(self._shared.pool, "handing back an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = %s FOR UPDATE", (approval_id,)
            ).fetchone()
            found = approval_from_body(row[0]) if row is not None else None
            if found is not None and released(found, decision_id):
                _update(
                    conn,
                    replace(found, status=ApprovalStatus.APPROVED, consumed_by_decision=None),
                )

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        with transaction(self._shared.pool, "deciding an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = %s FOR UPDATE", (approval_id,)
            ).fetchone()
            found = approval_from_body(row[0]) if row is not None else None
            check_decidable(found, approval_id, now)
            assert found is not None
            status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
            decided = found.decided(status, by, reason, now)
            _update(conn, decided)
            return decided

    def get(self, approval_id: str) -> Approval | None:
        with transaction(self._shared.pool, "reading an approval") as conn:
            row = conn.execute(
                "SELECT body FROM approvals WHERE approval_id = %s", (approval_id,)
            ).fetchone()
        return None if row is None else approval_from_body(row[0])

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        query = "SELECT body FROM approvals"
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status = %s"
            params = (status,)
        query += " ORDER BY created_at DESC, approval_id DESC LIMIT %s"
        with transaction(self._shared.pool, "listing approvals") as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [approval_from_body(row[0]) for row in rows]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shared.release()


def _update(conn: Any, approval: Approval) -> None:
    conn.execute(
        "UPDATE approvals SET status = %s, body = %s WHERE approval_id = %s",
        (approval.status.value, approval_body(approval), approval.approval_id),
    )


def open_postgres_state(url: str) -> StateStores:
    shared = _Shared(open_pool(url))
    return StateStores(
        PostgresCounterStore(shared), PostgresRunStore(shared), PostgresApprovalStore(shared)
    )
