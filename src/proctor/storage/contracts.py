"""The storage contracts: what every backend (memory, SQLite, PostgreSQL) provides.

One module states them all: the audit trail, the guardrails' counters, runs and
approvals, each run's provenance, and the identity store (agents, credentials,
revoked token ids, client assertions already used). The core imports this
module and nothing else of ``proctor.storage`` (an import-linter contract holds
it to that); the backends fill it in and run one contract suite each in
``tests/storage``. Each operation that decides is atomic in the backend, across
threads and processes.

The values the contracts speak in belong to ``proctor.model`` (``Approval``,
``RunRecord``, ``CounterCharge``...) and the core (``Source``...) and are named
here for annotations only, so that this module loads nothing and the core may
import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from proctor.audit.chain import ChainHead, StoredRow, VerifyReport
    from proctor.audit.checkpoint import Checkpoint, ShardHead
    from proctor.audit.merkle import TreeSource
    from proctor.identity.credentials import ApiKeyRecord
    from proctor.model.approvals import Approval
    from proctor.model.audit_event import AuditEvent
    from proctor.model.counters import ChargeResult, CounterCharge
    from proctor.model.runs import RunRecord
    from proctor.scanners.provenance import CandidateValue, Source
    from proctor.storage.errors import StorageError

__all__ = [
    "ApprovalStore",
    "AuditStore",
    "CounterStore",
    "IdentityStore",
    "PolicyStore",
    "PolicyVersion",
    "ProcessBeat",
    "ProvenanceStore",
    "RunStore",
    "StateStores",
    "StoredAgent",
    "StoredCredential",
]


def _field_values(value: Any, leave_out: Collection[str] = ()) -> dict[str, Any]:
    """A stored value's dataclass fields by name, in their order (its JSON-ready form)."""
    return {f.name: getattr(value, f.name) for f in fields(value) if f.name not in leave_out}


# -- the audit trail ------------------------------------------------------------------------


@runtime_checkable
class AuditStore(Protocol):
    """An append-only audit log: one hash chain and RFC 9162 Merkle tree per writer (shard).

    Writes fail closed: once a store cannot write, ``healthy`` is False,
    ``failure`` says why and ``append`` raises ``StorageError``
    (``storage_unavailable``), which the runtime turns into a deny. Reads see
    committed records; ``flush()`` first to read your own appends.
    """

    def append(self, event: AuditEvent, *, wait: bool = False) -> None:
        """Queue ``event``; with ``wait=True`` return only once its record is committed."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Return once everything appended so far is committed; raise if it cannot be."""
        ...

    def close(self) -> None:
        """Flush and release the store; closing again does nothing."""
        ...

    @property
    def healthy(self) -> bool:
        """False once a write failed: no further record can be chained."""
        ...

    @property
    def failure(self) -> StorageError | None:
        """The error that made the store unhealthy, if any."""
        ...

    def get(self, decision_id: str) -> dict[str, Any] | None:
        """The stored record (payload and chain fields) with this decision id."""
        ...

    def tail(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` records, oldest first."""
        ...

    def count(self) -> int:
        """How many records are stored."""
        ...

    def head(self) -> ChainHead:
        """The ``seq`` (the read cursor) and hash of the newest stored row."""
        ...

    def verify(self, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport:
        """Check every shard's chain against its head and its tree against ``checkpoints``
        (already signature-checked)."""
        ...

    def shard_heads(self) -> list[ShardHead]:
        """Every shard's size and Merkle root, as last committed."""
        ...

    def tree_source(self, shard: int) -> TreeSource:
        """The stored leaf hashes and tree nodes of ``shard`` (for proofs)."""
        ...

    def locate(self, decision_id: str) -> tuple[int, int, str] | None:
        """``(shard, position, body)`` of a record."""
        ...

    def checkpoint_notes(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """Stored signed checkpoints numbered past ``after``, oldest first."""
        ...

    def latest_checkpoint(self) -> tuple[int, str] | None: ...

    def store_checkpoint(self, number: int, time: str, size: int, note: str) -> None:
        """Keep a signed checkpoint; a number stored already raises ``StorageError``."""
        ...

    def lead_checkpoints(self, owner: str, now: float, lease: float) -> bool:
        """Take or keep the checkpointer's lease (one checkpointer among the replicas)."""
        ...

    def iter_rows(self) -> Iterator[StoredRow]:
        """Every stored row in ``seq`` order (for verify and exports)."""
        ...


# -- the guardrails' state: counters, runs, approvals ----------------------------------------


@runtime_checkable
class CounterStore(Protocol):
    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        """Apply every charge or none: all fit under their ceilings, or nothing changes."""
        ...

    def value(self, key: str, window_start: int) -> float:
        """The counter's value in one bucket (0 when it was never charged)."""
        ...

    def prune(self, now: int) -> int:
        """Drop buckets that can no longer count at ``now`` (epoch seconds): those that
        ended a whole window ago (a sliding window still reads the previous one).
        Counters that never reset are kept. Returns how many went."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RunStore(Protocol):
    def start(self, run_id: str, at: datetime, *, agent: str, user: str | None) -> RunRecord:
        """The run, started at ``at`` unless it was started before (then as it is)."""
        ...

    def end(self, run_id: str, at: datetime) -> RunRecord:
        """Mark the run ended (once; ending again keeps the first end)."""
        ...

    def get(self, run_id: str) -> RunRecord | None: ...

    def close(self) -> None: ...


@runtime_checkable
class ApprovalStore(Protocol):
    def open_request(self, approval: Approval, now: datetime) -> Approval:
        """The pending, unexpired approval for the same call, or ``approval`` stored as new."""
        ...

    def consume(self, call_hash: str, now: datetime, decision_id: str) -> Approval | None:
        """Use up one approved, unexpired approval of this exact call; None when there is none."""
        ...

    def release(self, approval_id: str, decision_id: str) -> None:
        """Hand back an approval ``decision_id`` used up but did not pass (a limit denied it).

        Only when it is still consumed by that decision: it is approved again.
        """
        ...

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        """Approve or reject a pending approval; raises ``LimitsError`` when it is not pending."""
        ...

    def get(self, approval_id: str) -> Approval | None: ...

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        """Newest first; ``status`` one of pending, approved, rejected, consumed."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StateStores:
    """The three stores the guardrails use, opened and closed together."""

    counters: CounterStore
    runs: RunStore
    approvals: ApprovalStore

    def close(self) -> None:
        self.counters.close()
        self.runs.close()
        self.approvals.close()


# -- provenance ------------------------------------------------------------------------------


@runtime_checkable
class ProvenanceStore(Protocol):
    """What each run has seen, trusted and untrusted, shared by whoever checks its calls."""

    def remember_trusted(self, run_id: str, content: Any) -> None:
        """Values in ``content`` (the user's task) are never taint in run ``run_id``."""
        ...

    def remember_untrusted(self, run_id: str, content: Any, source: Source) -> None:
        """Values in ``content`` (a tool output) came from ``source`` unless seen before."""
        ...

    def taint_of(self, run_id: str, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Argument path -> ``{"kind", "tool", "call", "at"}`` for each tainted argument, with
        ``injected`` (``{"tool", "call", "at", "score"}``) when an injection named its value."""
        ...

    def remember_injection(
        self, run_id: str, source: Source, score: float, values: Iterable[CandidateValue] = ()
    ) -> None:
        """An output from ``source`` in run ``run_id`` held an injection finding that named
        ``values`` (the candidate values near its span)."""
        ...

    def injections(self, run_id: str) -> tuple[dict[str, Any], ...]:
        """``{"tool", "call", "at", "score"}`` of each such output, first seen first."""
        ...

    def discard(self, run_id: str) -> None:
        """Forget run ``run_id``."""
        ...

    def close(self) -> None: ...


# -- identity: agents, credentials, revoked tokens, used client assertions ------------------


@dataclass(frozen=True, slots=True)
class StoredAgent:
    """An agent created through the CLI or API (agents in the config file are not stored)."""

    id: str
    role: str | None
    tier: str
    owner: str | None = None
    tags: tuple[str, ...] = ()
    created_at: int = 0
    revoked_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**_field_values(self), "tags": list(self.tags)}


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """An API key digest or a public JWK of one agent (secrets never reach a store)."""

    agent_id: str
    kind: str  # "api_key" or "public_key"
    key_id: str
    digest: str | None = None
    public_jwk: dict[str, Any] | None = None
    created_at: int = 0
    revoked_at: int | None = None


@runtime_checkable
class IdentityStore(Protocol):
    """Registered agents, their credentials, revoked token ids and used client assertions."""

    def put_agent(self, agent: StoredAgent) -> None:
        """Insert or replace the agent with ``agent.id``."""
        ...

    def get_agent(self, agent_id: str) -> StoredAgent | None: ...

    def list_agents(self) -> list[StoredAgent]: ...

    def add_credential(self, credential: StoredCredential) -> None: ...

    def revoke_credentials(self, agent_id: str, now: int, kind: str | None = None) -> int:
        """Revoke the agent's live credentials (of ``kind``); returns how many."""
        ...

    def credentials(self, agent_id: str) -> list[StoredCredential]:
        """The agent's live (unrevoked) credentials."""
        ...

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The live API key record with ``key_id``, if any."""
        ...

    def revoke_token(self, jti: str, expires_at: int, reason: str) -> None: ...

    def revoked_tokens(self, now: int) -> list[str]:
        """``jti`` values revoked and not yet expired at ``now``."""
        ...

    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        """Record client assertion ``jti`` of ``issuer`` as used; False if it was already.

        Atomic across every process sharing the store: of two concurrent uses,
        exactly one gets True. Records kept past ``now`` are dropped on the way.
        """
        ...

    def close(self) -> None: ...


# -- policy versions and the processes that follow them ----------------------------------------

PolicySources = Sequence[tuple[str, str]]  # a policy set's texts: ``(name, text)`` pairs


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One stored version of the policy set: its texts (``(name, text)`` pairs) and digest.

    ``sources`` is empty in listings; ``PolicyStore.version`` fills it in.
    """

    version: int
    digest: str
    message: str
    created_at: float
    created_by: str
    sources: tuple[tuple[str, str], ...] = ()
    activated_at: float | None = None  # set by ``PolicyStore.active``

    def to_dict(self) -> dict[str, Any]:
        """The version as listed: without its texts and activation time."""
        return _field_values(self, leave_out=("sources", "activated_at"))


@dataclass(frozen=True, slots=True)
class ProcessBeat:
    """A process on the store (gateway, SDK, proxy) as its last heartbeat described it."""

    process_id: str
    role: str
    host: str
    pid: int
    started_at: float
    heartbeat: float
    policy_version: int | None
    policy_digest: str
    state: str  # "following", "stale" (store unreachable, in grace), "failed_closed", "files"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.process_id, **_field_values(self, leave_out=("process_id",))}


@runtime_checkable
class PolicyStore(Protocol):
    """Policy texts kept by digest, numbered versions of them, the active one, and the
    processes that follow it. ``changes`` is what followers poll: a counter per topic
    (``policy``, ``identity``) that every change to it moves on."""

    def keep_texts(self, digest: str, sources: PolicySources, now: float) -> None:
        """Keep ``sources`` under ``digest`` (already kept: nothing changes)."""
        ...

    def texts(self, digest: str) -> tuple[tuple[str, str], ...] | None:
        """The sources kept under ``digest``."""
        ...

    def push(
        self, digest: str, sources: PolicySources, *, message: str, by: str, now: float
    ) -> tuple[PolicyVersion, bool]:
        """A new version of ``sources``, made active; ``(version, True)``.

        When ``digest`` is the active version's already: ``(that version, False)``.
        """
        ...

    def activate(self, version: int, *, by: str, now: float) -> PolicyVersion:
        """Make a stored version active again (a rollback); an unknown version raises
        ``StorageError`` (``policy_version_unknown``)."""
        ...

    def active(self) -> PolicyVersion | None:
        """The active version with its sources (None before the first push)."""
        ...

    def version(self, version: int) -> PolicyVersion | None:
        """One version with its sources."""
        ...

    def versions(self, limit: int = 100) -> list[PolicyVersion]:
        """The newest versions first, without their sources."""
        ...

    def changes(self) -> dict[str, int]:
        """Topic -> change counter."""
        ...

    def beat(self, process: ProcessBeat) -> None:
        """Insert or replace this process's row."""
        ...

    def processes(self, since: float) -> list[ProcessBeat]:
        """Processes whose last heartbeat is at ``since`` or later (rows far older are dropped)."""
        ...

    def close(self) -> None: ...
