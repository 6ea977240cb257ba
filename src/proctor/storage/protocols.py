"""The storage contracts: what every backend (memory, SQLite, later PostgreSQL) provides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from proctor.audit.chain import ChainHead, StoredRow, VerifyReport
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import StorageError


@runtime_checkable
class AuditStore(Protocol):
    """An append-only, hash-chained audit trail.

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
        """The seq and hash of the last record, as the store's head keeps them."""
        ...

    def verify(self) -> VerifyReport:
        """Check the whole chain against the head."""
        ...

    def iter_rows(self) -> Iterator[StoredRow]:
        """Every stored row in ``seq`` order (for verify and exports)."""
        ...
