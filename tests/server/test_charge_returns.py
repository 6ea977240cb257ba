"""Charges of unrecorded decisions: taken back off the answer's path, again until it works."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from proctor.limits.counters import CounterCharge
from proctor.server.charge_returns import ChargeReturns
from proctor.storage.errors import StorageError


class _Counters:
    """An undo that fails while ``down`` is set, as a limits store that does not answer."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.taken_back: list[Sequence[CounterCharge]] = []
        self.attempts = 0
        self.tried = threading.Event()

    def undo(self, charges: Sequence[CounterCharge]) -> None:
        self.attempts += 1
        self.tried.set()
        if self.down.is_set():
            raise StorageError("no answer from the PostgreSQL server within 2 s")
        self.taken_back.append(charges)


def _charge(amount: float) -> CounterCharge:
    return CounterCharge("refund-budget|alice", 0, 86400, amount, 1000.0)


def test_charges_are_taken_back_once_the_store_answers() -> None:
    counters = _Counters()
    counters.down.set()
    returns = ChargeReturns(counters.undo)
    returns.take_back([_charge(10)])
    returns.take_back([])  # nothing charged: nothing to do
    assert counters.tried.wait(5)
    assert returns.pending == 1  # kept while the store is down
    counters.down.clear()
    returns.take_back([_charge(5)])
    returns.close()  # waits for what is pending
    assert [[c.amount for c in charges] for charges in counters.taken_back] == [[10], [5]]
    assert returns.pending == 0
