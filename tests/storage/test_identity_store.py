"""The identity store contract, run against the memory, SQLite and PostgreSQL backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from proctor.storage import open_audit_store
from proctor.storage.contracts import IdentityStore, StoredAgent, StoredCredential
from proctor.storage.memory_identity import MemoryIdentityStore
from proctor.storage.sqlite.identity_store import SqliteIdentityStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdentityStore]:
    backend: IdentityStore
    if request.param == "postgres":
        from proctor.storage.postgres.identity_store import PostgresIdentityStore

        backend = PostgresIdentityStore(request.getfixturevalue("postgres_url"))
    else:
        backend = (
            MemoryIdentityStore()
            if request.param == "memory"
            else SqliteIdentityStore(str(tmp_path / "proctor.db"))
        )
    yield backend
    backend.close()


def test_agents(store: IdentityStore) -> None:
    store.put_agent(StoredAgent("b", "r", "verified", "team", ("x",), 1))
    store.put_agent(StoredAgent("a", None, "unverified"))
    assert [agent.id for agent in store.list_agents()] == ["a", "b"]
    assert store.get_agent("b") == StoredAgent("b", "r", "verified", "team", ("x",), 1)
    store.put_agent(StoredAgent("b", "r", "trusted", "team", ("x",), 1))
    assert store.get_agent("b").tier == "trusted"  # type: ignore[union-attr]
    assert store.get_agent("zz") is None


def test_credentials(store: IdentityStore) -> None:
    store.add_credential(StoredCredential("a", "api_key", "k1", digest="d1", created_at=1))
    store.add_credential(
        StoredCredential("a", "public_key", "p1", public_jwk={"kty": "OKP"}, created_at=2)
    )
    assert store.api_key("k1").agent_id == "a"  # type: ignore[union-attr]
    assert [c.key_id for c in store.credentials("a")] == ["k1", "p1"]
    assert store.revoke_credentials("a", 5, kind="api_key") == 1
    assert store.api_key("k1") is None
    assert [c.key_id for c in store.credentials("a")] == ["p1"]


def test_revoked_tokens(store: IdentityStore) -> None:
    store.revoke_token("j1", 100, "leaked")
    store.revoke_token("j2", 10, "old")
    assert store.revoked_tokens(50) == ["j1"]


def test_a_client_assertion_is_used_once_per_issuer(store: IdentityStore) -> None:
    assert store.use_assertion("bot", "j1", 100, 10)
    assert not store.use_assertion("bot", "j1", 100, 20)
    assert store.use_assertion("other-bot", "j1", 100, 20)  # ids are per issuer
    assert store.use_assertion("bot", "j2", 50, 20)


def test_used_assertions_are_kept_until_they_expire_then_dropped(store: IdentityStore) -> None:
    assert store.use_assertion("bot", "j1", 100, 10)
    assert not store.use_assertion("bot", "j1", 100, 100)  # still kept at `keep_until`
    assert store.use_assertion("bot", "j1", 300, 101)  # dropped past it (expired anyway)
    assert not store.use_assertion("bot", "j1", 300, 102)


def test_concurrent_uses_of_one_assertion_succeed_once(store: IdentityStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: store.use_assertion("bot", "j", 100, 10), range(16)))
    assert answers.count(True) == 1


def test_a_used_assertion_stays_used_in_another_connection_and_after_reopening(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    sqlite = str(tmp_path / "proctor.db")
    postgres = new_postgres_database()
    openers: list[Callable[[], IdentityStore]] = [
        lambda: SqliteIdentityStore(sqlite),
        lambda: _postgres_store(postgres),
    ]
    for opener in openers:
        first, second = opener(), opener()
        assert first.use_assertion("bot", "j", 100, 10)
        assert not second.use_assertion("bot", "j", 100, 10)
        first.close()
        second.close()
        reopened = opener()
        assert not reopened.use_assertion("bot", "j", 100, 11)
        reopened.close()


def _postgres_store(url: str) -> IdentityStore:
    from proctor.storage.postgres.identity_store import PostgresIdentityStore

    return PostgresIdentityStore(url)


def test_the_sqlite_store_shares_the_audit_file(tmp_path: Path) -> None:
    path = str(tmp_path / "proctor.db")
    identity = SqliteIdentityStore(path)  # first: the audit schema is created too
    identity.revoke_token("j", 10, "r")
    audit = open_audit_store(path)
    assert audit.count() == 0
    audit.close()
    identity.close()
    assert SqliteIdentityStore(path).revoked_tokens(0) == ["j"]
