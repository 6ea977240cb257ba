"""Check-and-increment is atomic: 8 threads and 4 processes spend one budget of 500 by 10s.

On memory (threads only), SQLite and PostgreSQL (`postgres_url`: a database on the
session's throw-away cluster); processes are spawned and open their own connections.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from proctor.limits.counters import CounterCharge
from proctor.storage.contracts import StateStores
from proctor.storage.state import open_state_stores

BUDGET, STEP, ATTEMPTS = 500.0, 10.0, 20
CHARGE = CounterCharge("limit|budget|user=alice", 1_700_000_000, 86_400, STEP, BUDGET)


def _spend(audit_location: str | None, stores: StateStores | None = None) -> int:
    """Attempt ATTEMPTS charges; how many were admitted."""
    state = stores or open_state_stores(audit_location)
    try:
        return sum(state.counters.charge([CHARGE]).admitted for _ in range(ATTEMPTS))
    finally:
        if stores is None:
            state.close()


def _threads(count: int, work: Callable[[], int]) -> list[int]:
    results = [0] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_eight_threads_sharing_one_store_allow_exactly_fifty(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    location = None if backend == "memory" else str(tmp_path / "proctor.db")
    if backend == "postgres":
        location = request.getfixturevalue("postgres_url")
    stores = open_state_stores(location)
    try:
        results = _threads(8, lambda: _spend(location, stores))
    finally:
        stores.close()
    assert sum(results) == BUDGET / STEP == 50


def test_eight_threads_with_their_own_connections_allow_exactly_fifty(tmp_path: Path) -> None:
    location = str(tmp_path / "proctor.db")
    open_state_stores(location).close()
    assert sum(_threads(8, lambda: _spend(location))) == 50


def _shared_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A store every process opens on its own (SQLite file or PostgreSQL database), created."""
    if backend == "postgres":
        location: str = request.getfixturevalue("postgres_url")
    else:
        location = str(tmp_path / "proctor.db")
    open_state_stores(location).close()
    return location


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_four_processes_allow_exactly_fifty(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    location = _shared_location(backend, tmp_path, request)
    # spawn: each worker starts clean and opens its own connection (no inherited sockets)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert sum(pool.map_async(_spend, [location] * 4, chunksize=1).get(timeout=60)) == 50


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_four_processes_and_eight_threads_allow_exactly_fifty(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    location = _shared_location(backend, tmp_path, request)
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pending = pool.map_async(_spend, [location] * 4, chunksize=1)
        in_threads = _threads(8, lambda: _spend(location))
        in_processes = pending.get(timeout=60)
    assert sum(in_threads) + sum(in_processes) == 50
    state = open_state_stores(location)
    try:
        assert state.counters.value(CHARGE.key, CHARGE.window_start) == BUDGET
    finally:
        state.close()


BUDGET_POLICY = """
name: refunds
rules: [{action: "write:refund", effect: allow}]
limits: [{id: budget, action: "write:refund", sum: args.amount, max: 500, window: 1d}]
"""


def _spend_through_runtime(location: str) -> int:
    """ATTEMPTS refunds of 10 through a whole runtime of this process; how many passed."""
    from proctor.identity.registry import AgentRegistry
    from proctor.identity.scopes import ScopeSet
    from proctor.model.request import Agent, User
    from proctor.policy import load_policies
    from proctor.runtime import Runtime
    from proctor.storage import open_audit_store

    runtime = Runtime(
        policies=load_policies(texts=[BUDGET_POLICY]),
        registry=AgentRegistry({"bot": Agent("bot", "r")}, {"r": ScopeSet.parse(["*"])}),
        audit=open_audit_store(location),
        state=open_state_stores(location),
    )
    try:
        user = User("alice", ("*",))
        return sum(
            runtime.check("write:refund", agent="bot", user=user, args={"amount": 10}).allowed
            for _ in range(ATTEMPTS)
        )
    finally:
        runtime.close()


def test_four_processes_of_whole_runtimes_allow_exactly_fifty(tmp_path: Path) -> None:
    location = str(tmp_path / "proctor.db")
    open_state_stores(location).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        allowed = pool.map(_spend_through_runtime, [location] * 4, chunksize=1)
    assert sum(allowed) == 50
    from proctor.storage import open_audit_store

    store = open_audit_store(location)
    try:
        records = [r for r in store.tail(200) if r["kind"] == "decision"]
        assert store.verify().ok  # four writers, one chain
    finally:
        store.close()
    assert len(records) == 4 * ATTEMPTS
    assert sum(r["effect"] == "allow" for r in records) == 50
