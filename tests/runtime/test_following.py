"""``StoreFollower``: every process on a store switches to the active version, refreshes its
agents and fails closed after the grace period, driven here round by round with an
injected clock (no thread, no sleep)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from proctor.config import load_config
from proctor.policy import load_policies
from proctor.runtime import Runtime, build_runtime
from proctor.runtime.agents import Actor, AgentAdmin
from proctor.runtime.build import configured_registry
from proctor.runtime.following import (
    FAILED_CLOSED,
    FOLLOWING,
    NO_VERSION_RULE,
    REFUSED,
    STALE,
    UNREACHABLE_RULE,
    FollowSettings,
    StoreFollower,
    attach,
)
from proctor.runtime.policy_versions import PolicyVersions
from proctor.storage.errors import StorageError
from proctor.storage.sqlite.policy_store import SqlitePolicyStore

ALLOW_READS = """\
name: reads
rules:
  - {id: reads, action: "read:*", effect: allow}
"""
DENY_READS = """\
name: reads
rules:
  - {id: no-reads, action: "read:*", effect: deny}
"""
CONFIG = """\
roles:
  support: {scopes: ["*"]}
agents:
  - {id: support-bot, role: support, tier: verified}
storage: {audit: proctor.db, policies: store, grace_seconds: 10}
identity: {}
"""
OPS = Actor("ops", {"kind": "test"})


@dataclass
class Clock:
    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FlakyStore:
    """The store, or a failure on every call while ``down``."""

    inner: SqlitePolicyStore
    down: bool = False
    calls: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute) or name == "close":
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StorageError("the database is gone")
            return attribute(*args, **kwargs)

        return call


@dataclass
class Process:
    runtime: Runtime
    follower: StoreFollower
    store: FlakyStore
    clock: Clock
    directory: Path

    def check(self, action: str = "read:orders", agent: str = "support-bot") -> Any:
        return self.runtime.check(action, agent=agent)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    (tmp_path / "proctor.yaml").write_text(CONFIG)
    return tmp_path


def _process(directory: Path) -> Process:
    loaded = load_config(directory / "proctor.yaml")
    runtime = build_runtime(loaded)  # no role: no thread; the follower is driven by hand
    store = FlakyStore(SqlitePolicyStore(str(directory / "proctor.db")))
    clock = Clock()
    follower = StoreFollower(
        runtime,
        store,  # type: ignore[arg-type]
        role="sdk",
        settings=FollowSettings(from_store=True, grace_seconds=10.0),
        configured=configured_registry(loaded),
        now=clock,
    )
    attach(runtime, follower)
    follower.begin()
    return Process(runtime, follower, store, clock, directory)


@pytest.fixture
def pair(directory: Path) -> Iterator[tuple[Process, Process]]:
    first, second = _process(directory), _process(directory)
    yield first, second
    for process in (first, second):
        process.runtime.close()


@pytest.fixture
def reading(pair: tuple[Process, Process]) -> tuple[Process, Process]:
    """The pair once reads are allowed by version 1 and the second process has followed."""
    first, second = pair
    _push(first, ALLOW_READS)
    second.follower.poll_once()
    return pair


def _push(process: Process, text: str) -> dict[str, Any]:
    versions = PolicyVersions(
        process.runtime,
        process.follower.store,  # type: ignore[arg-type]
        follow_now=process.follower.poll_once,
    )
    return versions.push(load_policies(texts=[text]), by="ops", credential={"kind": "test"})


def _records(process: Process, kind: str) -> list[dict[str, Any]]:
    process.runtime.audit.flush()
    return [r for r in process.runtime.audit.tail(100) if r["kind"] == kind]


def test_before_any_push_every_call_is_denied_saying_why(pair: tuple[Process, Process]) -> None:
    first, _ = pair
    decision = first.check()
    assert decision.effect.value == "deny"
    assert decision.rule_ids == (NO_VERSION_RULE,)
    assert "no policy version has been pushed" in decision.reason


def test_a_push_in_one_process_is_followed_by_the_other_on_its_next_round(
    pair: tuple[Process, Process],
) -> None:
    first, second = pair
    pushed = _push(first, ALLOW_READS)
    assert first.check().allowed  # the pusher switches at once
    assert not second.check().allowed
    second.follower.poll_once()
    decision = second.check()
    assert decision.allowed
    assert decision.rule_ids == ("reads",)
    (record,) = [
        r for r in _records(second, "decision") if r["decision_id"] == decision.decision_id
    ]
    assert record["extra"]["policy_digest"] == pushed["digest"]
    activated = _records(second, "policy_activated")[-1]
    assert activated["extra"]["digest"] == pushed["digest"]
    assert activated["extra"]["version"] == 1
    assert activated["extra"]["process"] == second.follower.process_id


def test_a_rollback_is_followed_too(pair: tuple[Process, Process]) -> None:
    first, second = pair
    _push(first, ALLOW_READS)
    _push(first, DENY_READS)
    second.follower.poll_once()
    assert second.check().rule_ids == ("no-reads",)
    PolicyVersions(first.runtime, first.follower.store).activate(  # type: ignore[arg-type]
        1, by="ops", credential={"kind": "test"}
    )
    second.follower.poll_once()
    assert second.check().rule_ids == ("reads",)
    assert second.follower.version == 1


def test_an_unreachable_store_keeps_the_last_version_for_the_grace_then_fails_closed(
    reading: tuple[Process, Process],
) -> None:
    _first, second = reading
    second.store.down = True
    second.clock.now += 5  # within the 10 s grace
    second.follower.poll_once()
    assert second.follower.state == STALE
    assert second.check().allowed
    second.clock.now += 6  # past it
    second.follower.poll_once()
    assert second.follower.state == FAILED_CLOSED
    denied = second.check()
    assert not denied.allowed
    assert denied.rule_ids == (UNREACHABLE_RULE,)
    assert _records(second, "policy_activated")[-1]["extra"]["state"] == FAILED_CLOSED
    second.store.down = False  # the store answers again: the active version comes back
    second.clock.now += 1
    second.follower.poll_once()
    assert second.follower.state == FOLLOWING
    assert second.check().allowed


def test_a_version_this_process_cannot_compile_is_refused_and_the_last_good_set_stays(
    reading: tuple[Process, Process],
) -> None:
    first, second = reading
    # written straight into the store, as a newer proctor with other rules could
    first.follower.store.push(
        "sha256:broken", (("x.yaml", "name: x\nrules: [{action: 'read:*', effect: maybe}]\n"),),
        message="", by="elsewhere", now=1.0,
    )  # fmt: skip
    second.follower.poll_once()
    assert second.follower.state == REFUSED
    assert second.check().rule_ids == ("reads",)
    refused = _records(second, "policy_activated")[-1]
    assert refused["effect"] == "deny"
    assert refused["extra"]["digest"] == "sha256:broken"


def test_an_agent_created_and_revoked_in_one_process_reaches_the_other(
    reading: tuple[Process, Process],
) -> None:
    first, second = reading
    admin = AgentAdmin(
        first.runtime, configured_registry(load_config(first.directory / "proctor.yaml"))
    )
    admin.create("new-bot", OPS, role="support", tier="verified")
    assert second.check(agent="new-bot").code == "unknown_agent"
    second.follower.poll_once()
    assert second.check(agent="new-bot").allowed
    admin.set_tier("new-bot", "trusted", OPS, reason="reviewed")
    second.follower.poll_once()
    assert second.runtime.registry.agents["new-bot"].tier.value == "trusted"
    admin.revoke("new-bot", OPS)
    second.follower.poll_once()
    refused = second.check(agent="new-bot")
    assert not refused.allowed
    assert refused.code == "unknown_agent"


def test_the_heartbeat_reports_the_version_and_state(reading: tuple[Process, Process]) -> None:
    first, second = reading
    beats = {p.process_id: p for p in first.follower.store.processes(since=0.0)}
    mine = beats[second.follower.process_id]
    assert (mine.role, mine.policy_version, mine.state) == ("sdk", 1, FOLLOWING)
    assert mine.policy_digest == second.runtime.policies.digest
