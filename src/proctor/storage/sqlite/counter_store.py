"""Counters in the SQLite state file: check and increment in one ``BEGIN IMMEDIATE``."""

from __future__ import annotations

from collections.abc import Sequence

from proctor.limits.counters import ChargeResult, CounterCharge, fits
from proctor.storage.sqlite.state_db import StateDatabase

_SELECT = "SELECT total FROM limit_counters WHERE key = ? AND window_start = ?"
_ADD = (
    "INSERT INTO limit_counters (key, window_start, window_seconds, total) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key, window_start) DO UPDATE SET total = total + excluded.total"
)


class SqliteCounterStore:
    """``CounterStore`` over a ``StateDatabase``; safe across threads and processes."""

    def __init__(self, database: StateDatabase) -> None:
        self._db = database

    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        with self._db.transaction("charging counters") as conn:
            used: list[float] = []
            for index, item in enumerate(charges):
                row = conn.execute(_SELECT, (item.key, item.window_start)).fetchone()
                current = row[0] if row is not None else 0.0
                if item.previous_weight > 0:
                    previous = conn.execute(
                        _SELECT, (item.key, item.window_start - item.window_seconds)
                    ).fetchone()
                    current += (previous[0] if previous is not None else 0.0) * item.previous_weight
                if not fits(current, item.amount, item.ceiling):
                    used.append(current)
                    return ChargeResult(False, tuple(used), index)
                used.append(current + item.amount)
            conn.executemany(
                _ADD, [(c.key, c.window_start, c.window_seconds, c.amount) for c in charges]
            )
        return ChargeResult(True, tuple(used))

    def value(self, key: str, window_start: int) -> float:
        with self._db.reading("reading a counter") as conn:
            row = conn.execute(_SELECT, (key, window_start)).fetchone()
        return float(row[0]) if row is not None else 0.0

    def prune(self, now: int) -> int:
        with self._db.transaction("pruning counters") as conn:
            cursor = conn.execute(
                "DELETE FROM limit_counters "
                "WHERE window_seconds > 0 AND window_start + 2 * window_seconds <= ?",
                (now,),
            )
            return cursor.rowcount

    def close(self) -> None:
        self._db.close()
