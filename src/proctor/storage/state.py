"""Opening the state next to the audit trail: counters, runs, approvals, provenance.

The contracts are in ``proctor.storage.contracts``. ``open_state_stores`` picks
the backend the audit location implies: memory for a memory audit, PostgreSQL
for a ``postgresql://`` audit, else the audit's own SQLite file (tables next
to the audit tables), shared by every process that uses the same audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from proctor.scanners.provenance import ProvenanceLedgers
from proctor.storage.contracts import PolicyStore, ProvenanceStore, StateStores
from proctor.storage.errors import STORAGE_UNAVAILABLE, StorageError
from proctor.storage.memory_state import (
    MemoryApprovalStore,
    MemoryCounterStore,
    MemoryRunStore,
)

if TYPE_CHECKING:
    from proctor.storage.postgres.policy_store import ChangeListener

__all__ = [
    "is_shared_location",
    "open_change_listener",
    "open_policy_store",
    "open_provenance_store",
    "open_state_stores",
    "state_location",
]

_MEMORY = (None, ":memory:", "memory", "memory://", "sqlite:///:memory:")
_SQLITE_URL = "sqlite:///"


def state_location(audit_location: str | None) -> str | None:
    """The SQLite file for an audit location: the audit's own (None: keep state in memory)."""
    if audit_location in _MEMORY:
        return None
    assert audit_location is not None
    path = audit_location.removeprefix(_SQLITE_URL)
    if "://" in path:
        raise StorageError(
            f"unsupported state store `{path.split('://', 1)[0]}://`", code=STORAGE_UNAVAILABLE
        )
    return str(Path(path))


def open_state_stores(audit_location: str | None, *, busy_timeout: float = 5.0) -> StateStores:
    """Memory stores for a memory audit, else SQLite stores in the state file beside it."""
    if audit_location is not None and audit_location.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.state_stores import open_postgres_state

        return open_postgres_state(audit_location)
    location = state_location(audit_location)
    if location is None:
        return StateStores(MemoryCounterStore(), MemoryRunStore(), MemoryApprovalStore())
    from proctor.storage.sqlite.state_stores import open_sqlite_state

    return open_sqlite_state(location, busy_timeout=busy_timeout)


def open_provenance_store(
    audit_location: str | None, *, busy_timeout: float = 5.0
) -> ProvenanceStore:
    """Where runs' provenance lives: this process's memory for a memory audit, else the
    state database (SQLite file or PostgreSQL), shared by every process that uses it."""
    if audit_location is not None and audit_location.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.provenance_store import open_postgres_provenance

        return open_postgres_provenance(audit_location)
    location = state_location(audit_location)
    if location is None:
        return ProvenanceLedgers()
    from proctor.storage.sql.provenance import SqlProvenanceStore
    from proctor.storage.sqlite.state_db import StateDatabase

    return SqlProvenanceStore(StateDatabase(location, busy_timeout=busy_timeout))


def open_policy_store(audit_location: str | None) -> PolicyStore:
    """Where policy versions and heartbeats live: beside the audit (memory for a memory audit)."""
    if audit_location is not None and audit_location.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.policy_store import PostgresPolicyStore

        return PostgresPolicyStore(audit_location)
    location = state_location(audit_location)
    if location is None:
        from proctor.storage.memory_policies import MemoryPolicyStore

        return MemoryPolicyStore()
    from proctor.storage.sqlite.policy_store import SqlitePolicyStore

    return SqlitePolicyStore(location)


def open_change_listener(audit_location: str | None) -> ChangeListener | None:
    """PostgreSQL's ``LISTEN`` on store changes; None where only polling works (SQLite)."""
    if audit_location is not None and audit_location.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.policy_store import ChangeListener

        return ChangeListener(audit_location)
    return None


def is_shared_location(audit_location: str | None) -> bool:
    """Whether other processes can open this store (a file or a database, not memory)."""
    return audit_location not in _MEMORY
