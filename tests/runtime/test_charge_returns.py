"""Charges of unrecorded decisions: taken back off the answer's path, again until it works."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from proctor.limits.counters import CounterCharge
from proctor.model.counters import ChargeResult
from proctor.runtime.charge_returns import ChargeReturns
from proctor.sdk import Proctor, make_agent
from proctor.storage.contracts import CounterStore
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


def test_an_undo_that_fails_other_than_the_store_is_logged_and_the_next_ones_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    undone: list[float] = []

    def undo(charges: Sequence[CounterCharge]) -> None:
        if charges[0].amount == 10:
            raise TypeError("a bug, not an outage")
        undone.extend(charge.amount for charge in charges)

    returns = ChargeReturns(undo)
    with caplog.at_level(logging.ERROR, logger="proctor.limits"):
        returns.take_back([_charge(10)])  # stays spent: the stricter side
        returns.take_back([_charge(5)])
        returns.close()
    assert undone == [5]
    assert returns.pending == 0
    assert "could not be taken back" in caplog.text
    assert "a bug, not an outage" in caplog.text


BUDGET = """\
name: budget
rules:
  - {id: refunds, action: "write:refund", effect: allow}
limits:
  - {id: refund-budget, action: "write:refund", sum: args.amount, max: 1000, window: 1d}
"""


class _FirstUndoFails:
    """The real counter store, whose first take-back fails as a store that stopped answering."""

    def __init__(self, store: CounterStore) -> None:
        self._store = store
        self.undos = 0

    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        if all(charge.amount < 0 for charge in charges):
            self.undos += 1
            if self.undos == 1:
                raise StorageError("no answer from the database within 2 s")
        return self._store.charge(charges)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def _guard(audit: Path) -> Proctor:
    return Proctor.from_policies(texts=(BUDGET,), agents=[make_agent("bot")], audit=str(audit))


def test_a_failed_append_and_a_failed_first_undo_leave_the_budget_exact(tmp_path: Path) -> None:
    audit = tmp_path / "audit.db"
    with _guard(audit) as guard:
        counters = _FirstUndoFails(guard.runtime.guardrails.counters)
        guard.runtime.guardrails.counters = counters  # type: ignore[assignment]
        guard.runtime.audit.close()  # every append fails at once
        denied = guard.check("write:refund", args={"amount": 600})
        assert (denied.allowed, denied.code) == (False, "audit_unavailable")
    assert counters.undos == 2  # the failed undo was tried again, once, before the close ended
    with _guard(audit) as guard:  # the same counters, an audit that records
        paid = guard.check("write:refund", args={"amount": 600})
        over = guard.check("write:refund", args={"amount": 600})
    assert paid.allowed  # the unrecorded 600 was not spent
    assert over.code == "limit_exceeded"  # this 600 was
