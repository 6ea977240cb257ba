"""A charge whose COMMIT had an unknown outcome ends up not spent, whatever the server did."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from proctor.model.counters import CounterCharge
from proctor.storage.postgres.connection import PostgresDatabase
from proctor.storage.sql.charge_doubts import ChargeDoubts
from proctor.storage.sql.counters import SqlCounterStore

KEY = "refund-budget|alice"
CHARGE = CounterCharge(KEY, 0, 86400, 5.0, 1000.0)


@pytest.fixture
def counters(postgres_url: str) -> Iterator[SqlCounterStore]:
    database = PostgresDatabase.open(postgres_url)
    store = SqlCounterStore(database)
    store.doubts = ChargeDoubts(database, background=False)  # settled by the test's calls
    assert store.charge([CounterCharge(KEY, 0, 86400, 10.0, 1000.0)]).admitted
    yield store
    store.close()


def _charge_elsewhere(url: str, *, commit: bool) -> tuple[int, psycopg.Connection[object]]:
    """The charge as a frozen server would finish it after the caller gave up: its id."""
    conn = psycopg.connect(url)
    conn.execute("UPDATE limit_counters SET total = total + 5 WHERE key = %s", (KEY,))
    row = conn.execute("SELECT txid_current()").fetchone()
    assert row is not None
    if commit:
        conn.commit()
    return int(row[0]), conn


def test_a_charge_that_committed_after_its_failure_is_taken_back(
    counters: SqlCounterStore, postgres_url: str
) -> None:
    transaction, conn = _charge_elsewhere(postgres_url, commit=True)
    conn.close()
    assert counters.value(KEY, 0) == 15.0
    counters.doubts.charged_maybe(transaction, [CHARGE])
    counters.doubts.settle()
    assert counters.value(KEY, 0) == 10.0
    assert counters.doubts.pending == 0
    counters.doubts.settle()  # settled once only
    assert counters.value(KEY, 0) == 10.0


def test_a_charge_that_aborted_is_left_alone(counters: SqlCounterStore, postgres_url: str) -> None:
    transaction, conn = _charge_elsewhere(postgres_url, commit=False)
    conn.rollback()
    conn.close()
    counters.doubts.charged_maybe(transaction, [CHARGE])
    counters.doubts.settle()
    assert counters.value(KEY, 0) == 10.0
    assert counters.doubts.pending == 0


def test_a_charge_still_in_progress_is_looked_up_again(
    counters: SqlCounterStore, postgres_url: str
) -> None:
    transaction, conn = _charge_elsewhere(postgres_url, commit=False)
    try:
        counters.doubts.charged_maybe(transaction, [CHARGE])
        counters.doubts.settle()
        assert counters.doubts.pending == 1  # not known yet: kept
        conn.commit()  # the server resumes and commits it
    finally:
        conn.close()
    counters.doubts.settle()
    assert counters.value(KEY, 0) == 10.0
    assert counters.doubts.pending == 0
