"""``StoreFollower``: one process keeping up with the store it shares with others.

Every gateway, SDK and proxy process on a shared store (a SQLite file, a
PostgreSQL database) runs one follower thread. Each round it reads the
store's change counters (``policy``, ``identity``) and

- with ``policies: store``, switches to the active policy version when it
  moved (compiled here first; a set this process cannot compile is refused
  and the last good one stays), each switch an audit record
  ``policy_activated`` with the version and digest;
- when agents changed (created, revoked, a tier or role set), rebuilds the
  registry from the config's agents and the store's, and re-reads the
  revocation lists;
- writes its heartbeat: id, role, the version it decides with, its state.

PostgreSQL wakes the follower with ``NOTIFY`` as soon as a change commits;
the counters are polled every ``poll_seconds`` anyway (SQLite has only
that). A follower that cannot read the store keeps deciding with its last
good version for ``grace_seconds``, then fails closed: every call is denied
by the ``policy-store-unreachable`` rule until the store answers again.
Tests drive it with ``poll_once()`` and an injected clock, without a thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from proctor.audit.errors import AuditError
from proctor.errors import ProctorError
from proctor.identity.registry import AgentRegistry
from proctor.policy import CompiledPolicySet
from proctor.runtime.engine import Runtime
from proctor.runtime.policy_versions import PolicyVersions, compile_stored
from proctor.storage.contracts import PolicyStore, ProcessBeat
from proctor.storage.errors import StorageError

log = logging.getLogger("proctor.following")

POLICY_TOPIC, IDENTITY_TOPIC = "policy", "identity"
FOLLOWING, STALE, FAILED_CLOSED, FILES, REFUSED = (
    "following",
    "stale",
    "failed_closed",
    "files",
    "refused",
)
NO_VERSION_RULE = "policy-store-empty"
UNREACHABLE_RULE = "policy-store-unreachable"


class Listener(Protocol):
    """PostgreSQL's ``LISTEN`` (``storage.postgres.policy_store.ChangeListener``)."""

    def wait(self, seconds: float) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FollowSettings:
    """``storage:`` settings of following (docs/policies.md, "Policies in the store")."""

    from_store: bool = False
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 1.0
    grace_seconds: float = 30.0


_FOLLOWERS: weakref.WeakKeyDictionary[Runtime, StoreFollower] = weakref.WeakKeyDictionary()


def attach(runtime: Runtime, follower: StoreFollower) -> None:
    """``follower`` keeps ``runtime`` in step with its store, and stops when it closes."""
    _FOLLOWERS[runtime] = follower
    runtime.close_with(follower.close)


def follower_of(runtime: Runtime) -> StoreFollower | None:
    """The follower attached to ``runtime``: None on a store no other process shares."""
    return _FOLLOWERS.get(runtime)


def versions_of(runtime: Runtime) -> PolicyVersions | None:
    """The store's versions, switching ``runtime`` at once after its own changes."""
    follower = follower_of(runtime)
    if follower is None:
        return None
    follow_now = follower.poll_once if follower.settings.from_store else None
    return PolicyVersions(runtime, follower.store, follow_now=follow_now)


class StoreFollower:
    """Keeps ``runtime`` in step with ``store``: policy version, agents, heartbeat."""

    def __init__(
        self,
        runtime: Runtime,
        store: PolicyStore,
        *,
        role: str,
        settings: FollowSettings,
        configured: AgentRegistry | None = None,
        listener: Listener | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.role = role
        self.settings = settings
        self.versions = PolicyVersions(runtime, store)
        self._configured = configured
        self._listener = listener
        self._now = now
        self.process_id = f"{role}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.started_at = now()
        self.version: int | None = None
        self.state = FOLLOWING if settings.from_store else FILES
        self._seen: dict[str, int] = {}
        self._last_ok = self.started_at
        self._last_beat = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round = threading.Lock()  # one round at a time (the thread, a test, a route)
        self._holding = False  # deciding with the no-version set

    # -- starting -------------------------------------------------------------------------

    def begin(self) -> None:
        """The first round, before the process answers anything: the active version (or a
        deny-all set when none was pushed), or the file set's texts kept by digest."""
        self._seen = self.store.changes()
        if self.settings.from_store:
            self._switch_to_active()
        else:
            self.versions.keep(self.runtime.policies)
        self._beat(self._now())

    def start(self) -> None:
        """Follow in a daemon thread until ``close``."""
        self._thread = threading.Thread(target=self._loop, name="proctor-follower", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a bug in one round must not stop this process following
                log.exception("a round of following the store failed")
            self._wait()

    def _wait(self) -> None:
        seconds = self.settings.poll_seconds
        if self._listener is None:
            self._stop.wait(seconds)
            return
        try:
            self._listener.wait(seconds)
        except StorageError:
            self._stop.wait(seconds)  # the next round notices the store is gone

    # -- one round ------------------------------------------------------------------------

    def poll_once(self) -> None:
        """Read the counters; switch policies, refresh agents, beat as needed."""
        with self._round:
            now = self._now()
            try:
                changes = self.store.changes()
                recovering = self.state in (STALE, FAILED_CLOSED)
                if self.settings.from_store and (
                    recovering or changes.get(POLICY_TOPIC) != self._seen.get(POLICY_TOPIC)
                ):
                    self._switch_to_active()
                if changes.get(IDENTITY_TOPIC) != self._seen.get(IDENTITY_TOPIC):
                    self.refresh_agents()
                self._seen = changes
                self._last_ok = now
                if recovering and self.state != REFUSED:
                    self.state = FOLLOWING
                if now - self._last_beat >= self.settings.heartbeat_seconds:
                    self._beat(now)
            except StorageError as exc:
                self._unreachable(now, exc)

    def _switch_to_active(self) -> None:
        active = self.store.active()
        policies = self.runtime.policies
        if active is None:
            if self.version is not None or self.state == FAILED_CLOSED or not self._holding:
                self.version = None
                self._activate(self._deny_all(NO_VERSION_RULE), None)
                self._holding = True
            return
        if active.version == self.version and self.state in (FOLLOWING, STALE):
            self.state = FOLLOWING
            return
        try:
            compiled = compile_stored(active.sources, policies.timezone)
        except ProctorError as exc:
            # pushed by another proctor that this one cannot compile: keep the last good set
            log.error("policy version %s refused: %s", active.version, exc.message)
            self.state = REFUSED
            why = f"policy version {active.version} refused: {exc.message}"
            self._note(why, active.version, active.digest, "deny")
            return
        self.state = FOLLOWING
        self._holding = False
        self._activate(compiled, active.version)

    def _activate(self, compiled: CompiledPolicySet, version: int | None) -> None:
        self.runtime.replace_policies(compiled)
        self.version = version
        what = f"policy version {version}" if version is not None else "no policy version yet"
        self._note(f"{what} active in {self.process_id}", version, compiled.digest, "allow")
        self._last_beat = float("-inf")  # report the switch in the status at once

    def _unreachable(self, now: float, error: StorageError) -> None:
        if not self.settings.from_store:
            return  # policies come from files; the store's own failures deny where they matter
        if now - self._last_ok < self.settings.grace_seconds:
            if self.state == FOLLOWING:
                log.warning("the policy store is unreachable, in grace: %s", error.message)
                self.state = STALE
            return
        if self.state != FAILED_CLOSED:
            log.error("the policy store is unreachable past the grace period: failing closed")
            self.state = FAILED_CLOSED
            self.version = None
            self._holding = False
            self._activate(self._deny_all(UNREACHABLE_RULE), None)

    # -- agents ---------------------------------------------------------------------------

    def refresh_agents(self) -> None:
        """The config's agents plus the store's unrevoked ones; revocations read again."""
        identity = self.runtime.identity
        if identity is None or self._configured is None:
            return
        before = self.runtime.registry.agents
        registry = identity.with_stored_agents(self._configured)
        self.runtime.replace_registry(registry)
        for agent_id, agent in registry.agents.items():
            old = before.get(agent_id)
            if old is not None and old.tier != agent.tier:
                self.runtime.lift_demotion(agent_id)  # set by hand elsewhere: it wins
        identity.revoked_agents.expire()
        identity.revocations.expire()

    # -- heartbeat and records --------------------------------------------------------------

    def _beat(self, now: float) -> None:
        self.store.beat(self.describe(now))
        self._last_beat = now

    def describe(self, now: float | None = None) -> ProcessBeat:
        """This process as its heartbeat reports it."""
        return ProcessBeat(
            self.process_id,
            self.role,
            socket.gethostname(),
            os.getpid(),
            self.started_at,
            self._now() if now is None else now,
            self.version,
            self.runtime.policies.digest,
            self.state,
        )

    def _note(self, reason: str, version: int | None, digest: str, effect: str) -> None:
        """The ``policy_activated`` record of a switch (or a refusal) in this process."""
        extra: dict[str, Any] = {
            "version": version,
            "digest": digest,
            "process": self.process_id,
            "role": self.role,
            "state": self.state,
        }
        # the switch stands even unrecorded: a failing audit store denies every call anyway
        with contextlib.suppress(StorageError, AuditError):
            self.runtime.record(
                "policy_activated",
                action="policy:activate",
                effect=effect,
                reason=reason,
                agent=None,
                user=None,
                extra=extra,
            )

    def _deny_all(self, rule_id: str) -> CompiledPolicySet:
        """A set whose one rule denies every call, saying why (no version, store unreachable)."""
        reason = _DENY_ALL_REASONS[rule_id]
        text = (
            f"name: {rule_id}\n"
            "rules:\n"
            f"  - id: {rule_id}\n"
            '    action: "*"\n'
            "    effect: deny\n"
            f'    reason: "{reason}"\n'
        )
        return compile_stored(((f"<{rule_id}>", text),), self.runtime.policies.timezone)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)  # at most one poll interval
        if self._listener is not None:
            self._listener.close()
        with contextlib.suppress(StorageError):
            self.store.close()


_DENY_ALL_REASONS = {
    NO_VERSION_RULE: "no policy version has been pushed to the store",
    UNREACHABLE_RULE: "the policy store is unreachable past the grace period",
}
