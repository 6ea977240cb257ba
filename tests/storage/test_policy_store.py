"""The ``PolicyStore`` contract on every backend: versions by digest, one active version,
change counters that followers poll, and process heartbeats."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from proctor.storage.contracts import PolicyStore, ProcessBeat, StoredAgent
from proctor.storage.errors import StorageError
from proctor.storage.memory_policies import MemoryPolicyStore
from proctor.storage.sql.policy_sets import POLICY_VERSION_UNKNOWN
from proctor.storage.sqlite.identity_store import SqliteIdentityStore
from proctor.storage.sqlite.policy_store import SqlitePolicyStore

ONE = (("a.yaml", "name: a\nrules: []\n"),)
TWO = (("a.yaml", "name: a\nrules: []\n"), ("b.yaml", "name: b\nrules: []\n"))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PolicyStore]:
    opened: PolicyStore
    if request.param == "memory":
        opened = MemoryPolicyStore()
    elif request.param == "postgres":
        from proctor.storage.postgres.policy_store import PostgresPolicyStore

        opened = PostgresPolicyStore(request.getfixturevalue("postgres_url"))
    else:
        opened = SqlitePolicyStore(str(tmp_path / "proctor.db"))
    yield opened
    opened.close()


def test_a_push_is_a_new_active_version_and_the_same_set_again_changes_nothing(
    store: PolicyStore,
) -> None:
    assert store.active() is None
    first, created = store.push("sha256:one", ONE, message="first", by="ops", now=10.0)
    assert (first.version, created) == (1, True)
    active = store.active()
    assert active is not None
    assert (active.version, active.digest, active.sources) == (1, "sha256:one", ONE)
    assert active.activated_at == 10.0
    again, created = store.push("sha256:one", ONE, message="again", by="ops", now=11.0)
    assert (again.version, created) == (1, False)
    second, created = store.push("sha256:two", TWO, message="second", by="dev", now=12.0)
    assert (second.version, created) == (2, True)
    assert [v.version for v in store.versions()] == [2, 1]
    assert [v.message for v in store.versions()] == ["second", "first"]
    assert store.versions()[0].sources == ()  # listings leave the texts out


def test_activating_an_older_version_rolls_back_and_an_unknown_one_is_refused(
    store: PolicyStore,
) -> None:
    store.push("sha256:one", ONE, message="", by="ops", now=1.0)
    store.push("sha256:two", TWO, message="", by="ops", now=2.0)
    before = store.changes()
    store.activate(1, by="ops", now=3.0)
    active = store.active()
    assert active is not None
    assert active.digest == "sha256:one"
    assert store.changes()["policy"] == before["policy"] + 1
    with pytest.raises(StorageError) as refused:
        store.activate(99, by="ops", now=4.0)
    assert refused.value.code == POLICY_VERSION_UNKNOWN
    active = store.active()
    assert active is not None
    assert active.version == 1


def test_texts_are_kept_by_digest_once(store: PolicyStore) -> None:
    store.keep_texts("sha256:files", ONE, 1.0)
    store.keep_texts("sha256:files", TWO, 2.0)  # the first texts stay
    assert store.texts("sha256:files") == ONE
    assert store.texts("sha256:unknown") is None
    assert store.active() is None  # keeping texts makes no version


def test_heartbeats_replace_the_row_and_old_ones_are_not_live(store: PolicyStore) -> None:
    beat = ProcessBeat("gw-1", "gateway", "host", 1, 0.0, 100.0, 1, "sha256:one", "following")
    store.beat(beat)
    store.beat(ProcessBeat("sdk-1", "sdk", "host", 2, 0.0, 50.0, None, "sha256:x", "files"))
    store.beat(ProcessBeat("gw-1", "gateway", "host", 1, 0.0, 101.0, 2, "sha256:two", "following"))
    (live,) = store.processes(since=90.0)
    assert (live.process_id, live.policy_version, live.heartbeat) == ("gw-1", 2, 101.0)
    assert {p.process_id for p in store.processes(since=0.0)} == {"gw-1", "sdk-1"}


def test_two_pushes_at_once_get_two_numbers(store: PolicyStore) -> None:
    def push(n: int) -> int:
        version, _ = store.push(f"sha256:{n}", ONE, message="", by="ops", now=float(n))
        return version.version

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(push, range(16)))
    assert sorted(numbers) == list(range(1, 17))


def test_an_agent_change_moves_the_identity_counter(tmp_path: Path) -> None:
    path = str(tmp_path / "proctor.db")
    identity, policies = SqliteIdentityStore(path), SqlitePolicyStore(path)
    try:
        before = policies.changes().get("identity", 0)
        identity.put_agent(StoredAgent("bot", None, "verified"))
        identity.revoke_credentials("bot", 5)
        identity.revoke_token("jti-1", 99, "lost")
        assert policies.changes()["identity"] == before + 3
    finally:
        identity.close()
        policies.close()
