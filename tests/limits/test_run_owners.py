"""A run belongs to the agent (and user) that first named it, in every process sharing the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor.limits.run_owners import RunOwners
from proctor.storage.contracts import StateStores
from proctor.storage.state import open_state_stores
from tests.storage.state_stores import open_backend

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStores]:
    stores = open_backend(request.param, tmp_path)
    yield stores
    stores.close()


def test_the_first_caller_owns_the_run(state: StateStores) -> None:
    owners = RunOwners(state.runs)
    assert owners.claim("r1", "bot", "alice", NOW) is None
    assert owners.claim("r1", "bot", "alice", NOW) is None
    assert owners.claim("r1", "evil", "alice", NOW) == "run `r1` was started by another agent"
    assert owners.claim("r1", "bot", "bob", NOW) == "run `r1` was started for another user"
    assert owners.claim("r1", "bot", None, NOW) == "run `r1` was started for another user"
    assert owners.claim("r1", "bot", None, NOW, any_user=True) is None
    assert owners.claim("r1", "evil", None, NOW, any_user=True) is not None


def test_a_run_started_without_a_user_is_its_agent_s(state: StateStores) -> None:
    owners = RunOwners(state.runs)
    assert owners.claim("r2", "bot", None, NOW, any_user=True) is None
    assert owners.claim("r2", "bot", "alice", NOW) is None
    assert owners.claim("r2", "bot", "bob", NOW) is None
    assert owners.claim("r2", "evil", "alice", NOW) is not None


def test_processes_sharing_the_state_file_agree_on_the_owner(tmp_path: Path) -> None:
    location = str(tmp_path / "proctor.db")
    first, second = open_state_stores(location), open_state_stores(location)
    try:
        assert RunOwners(first.runs).claim("shared", "bot", "alice", NOW) is None
        other = RunOwners(second.runs)
        assert other.claim("shared", "evil", "alice", NOW) is not None
        assert other.claim("shared", "bot", "alice", NOW) is None
    finally:
        first.close()
        second.close()


def test_a_delegated_agent_acts_in_its_delegator_s_run_for_the_same_user(
    state: StateStores,
) -> None:
    owners = RunOwners(state.runs)
    assert owners.claim("r3", "lead", "alice", NOW) is None
    assert owners.claim("r3", "helper", "alice", NOW, delegators=("lead",)) is None
    assert owners.claim("r3", "helper", "bob", NOW, delegators=("lead",)) is not None
    assert owners.claim("r3", "helper", "alice", NOW, delegators=("other",)) is not None
