"""Charges whose COMMIT had an unknown outcome: looked up by transaction id, undone if committed.

A charge that times out after its COMMIT was sent (the PostgreSQL server
stopped answering: frozen, cut off) fails to its caller, which denies the
check; the server may still commit it when it resumes, spending what the
denied call never used. So the counter store takes the transaction's id
before the COMMIT and, on such a failure, hands it here: a thread asks the
server (``txid_status``) once it answers. ``committed``: the charge is taken
back, by a transaction tracked the same way (its own ``aborted`` means take
back again); ``aborted``: nothing was spent. A failed charge thus means "not
charged", whatever the server did later. Kept in memory: a process that dies
before the server answers again leaves the charge spent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from proctor.model.counters import CounterCharge
from proctor.storage.errors import STORAGE_TIMEOUT, StorageError
from proctor.storage.sql.dialect import SqlDatabase, Statements

TRANSACTION_ID = "SELECT txid_current()"
_STATUS = "SELECT txid_status(?)"
_TAKE_BACK = "UPDATE limit_counters SET total = total + ? WHERE key = ? AND window_start = ?"
_RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class _Doubt:
    transaction: int | None  # None: nothing committed, take back again
    charges: tuple[CounterCharge, ...]  # as applied by that transaction
    taking_back: bool  # that transaction took the charge back (else it charged)


def transaction_id(sql: Statements) -> int:
    row = sql.one(TRANSACTION_ID)
    assert row is not None  # one row, always
    return int(row[0])


class ChargeDoubts:
    def __init__(self, database: SqlDatabase, *, background: bool = True) -> None:
        """``background``: a thread settles the doubts (else only ``settle`` calls do)."""
        self._db = database
        self._background = background
        self._doubts: list[_Doubt] = []
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return len(self._doubts)

    def charged_maybe(self, transaction: int, charges: Sequence[CounterCharge]) -> None:
        """The charge ``transaction`` made may commit yet; it must end up not spent."""
        self._add(_Doubt(transaction, tuple(charges), taking_back=False))

    def settle(self) -> None:
        """Look every doubt up once (the thread calls it; tests may too)."""
        with self._wake:
            doubts, self._doubts = self._doubts, []
        for doubt in doubts:
            try:
                self._settle_one(doubt)
            except StorageError:
                self._keep(doubt)  # still not answering: next round

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(5.0)

    def _add(self, doubt: _Doubt) -> None:
        with self._wake:
            self._doubts.append(doubt)
            if self._background and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(
                    target=self._run, name="proctor-charge-doubts", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._closed or not self._doubts:
                    return
                self._wake.wait(_RETRY_SECONDS)
            self.settle()

    def _settle_one(self, doubt: _Doubt) -> None:
        if doubt.transaction is not None:
            with self._db.reading("looking up a charge's outcome") as sql:
                row = sql.one(_STATUS, (doubt.transaction,))
            status = row[0] if row is not None else None
            if status == "in progress":
                self._keep(doubt)
                return
            done = "committed" if doubt.taking_back else "aborted"
            if status == done or status is None:  # None: too old to know, counted done
                return
        self._take_back(doubt.charges)

    def _take_back(self, charges: tuple[CounterCharge, ...]) -> None:
        taken: int | None = None
        try:
            with self._db.transaction("taking back a charge that committed late") as sql:
                sql.many(_TAKE_BACK, [(-c.amount, c.key, c.window_start) for c in charges])
                taken = transaction_id(sql)
        except StorageError as exc:
            unknown = exc.code == STORAGE_TIMEOUT and taken is not None
            self._keep(_Doubt(taken if unknown else None, charges, taking_back=True))

    def _keep(self, doubt: _Doubt) -> None:
        with self._wake:
            self._doubts.append(doubt)
