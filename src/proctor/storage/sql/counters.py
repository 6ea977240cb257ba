"""Counters over a SQL database: check and increment in one transaction.

How the transaction keeps concurrent charges apart is the dialect's: SQLite's
``BEGIN IMMEDIATE`` holds the file's write lock, so the charge reads and adds
as it goes; PostgreSQL replicas lock the counter rows instead (created at zero
where missing, then ``SELECT ... FOR UPDATE`` in key order, so two replicas
never deadlock), and a refused charge rolls back the rows it created. On
PostgreSQL a charge that times out after its COMMIT was sent is looked up by
its transaction id and taken back should it have committed
(``charge_doubts.py``): a failed charge means not charged.
"""

from __future__ import annotations

from collections.abc import Sequence

from proctor.model.counters import ChargeResult, CounterCharge, tally
from proctor.storage.errors import STORAGE_TIMEOUT, StorageError
from proctor.storage.sql.charge_doubts import ChargeDoubts, transaction_id
from proctor.storage.sql.dialect import Closing, SqlDatabase, Statements

_TOTAL = "SELECT total FROM limit_counters WHERE key = ? AND window_start = ?"
_ADD = (
    "INSERT INTO limit_counters (key, window_start, window_seconds, total) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key, window_start) DO UPDATE SET total = total + excluded.total"
)
_CREATE_AT_ZERO = (
    "INSERT INTO limit_counters (key, window_start, window_seconds, total) "
    "VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING"
)
_ADD_TO_LOCKED = "UPDATE limit_counters SET total = total + ? WHERE key = ? AND window_start = ?"
_PRUNE = (
    "DELETE FROM limit_counters WHERE window_seconds > 0 AND window_start + 2 * window_seconds <= ?"
)


class _Refused(Exception):
    """Leaves the transaction (rolling it back) with the refusal."""

    def __init__(self, result: ChargeResult) -> None:
        self.result = result


class SqlCounterStore(Closing):
    """``CounterStore`` over a backend's ``SqlDatabase``; safe across threads and processes."""

    def __init__(self, database: SqlDatabase) -> None:
        super().__init__(database)
        self.doubts = ChargeDoubts(database)

    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        committing: list[int] = []  # the transaction's id, once only its COMMIT is left
        try:
            with self._db.transaction("charging counters") as sql:
                if sql.dialect.locks_rows:
                    return _charge_locked_rows(sql, charges, committing)
                return _charge_under_write_lock(sql, charges)
        except _Refused as refused:
            return refused.result
        except StorageError as exc:
            if committing and exc.code == STORAGE_TIMEOUT:  # it may commit yet
                self.doubts.charged_maybe(committing[0], charges)
            raise

    def close(self) -> None:
        self.doubts.close()
        super().close()

    def value(self, key: str, window_start: int) -> float:
        with self._db.reading("reading a counter") as sql:
            return _total(sql, key, window_start)

    def prune(self, now: int) -> int:
        with self._db.transaction("pruning counters") as sql:
            return sql.run(_PRUNE, (now,))


def _total(sql: Statements, key: str, window_start: int, lock: str = "") -> float:
    row = sql.one(_TOTAL + lock, (key, window_start))
    return float(row[0]) if row is not None else 0.0


def _charge_under_write_lock(sql: Statements, charges: Sequence[CounterCharge]) -> ChargeResult:
    result = tally(charges, lambda key, start: _total(sql, key, start))
    if result.admitted:
        sql.many(_ADD, [(c.key, c.window_start, c.window_seconds, c.amount) for c in charges])
    return result


def _charge_locked_rows(
    sql: Statements, charges: Sequence[CounterCharge], committing: list[int]
) -> ChargeResult:
    keys = sorted(
        {(c.key, c.window_start, c.window_seconds) for c in charges}
        | {
            (c.key, c.window_start - c.window_seconds, c.window_seconds)
            for c in charges
            if c.previous_weight > 0
        }
    )
    sql.many(_CREATE_AT_ZERO, keys)
    totals = {(key, start): _total(sql, key, start, sql.dialect.row_lock) for key, start, _ in keys}
    result = tally(charges, lambda key, start: totals[(key, start)])
    if not result.admitted:
        raise _Refused(result)  # the zero rows created above go too
    sql.many(_ADD_TO_LOCKED, [(c.amount, c.key, c.window_start) for c in charges])
    committing.append(transaction_id(sql))
    return result
