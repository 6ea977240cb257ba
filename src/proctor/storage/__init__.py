"""Storage behind one set of contracts (``contracts``): memory, SQLite and PostgreSQL."""

from __future__ import annotations

from proctor.storage.contracts import AuditStore
from proctor.storage.errors import STORAGE_UNAVAILABLE, StorageError
from proctor.storage.memory import MemoryAuditStore
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from proctor.storage.sqlite.connection import Durability

__all__ = ["AuditStore", "MemoryAuditStore", "SqliteAuditStore", "open_audit_store"]

_MEMORY = (":memory:", "memory", "memory://", "sqlite:///:memory:")
_SQLITE_URL = "sqlite:///"


def open_audit_store(
    url_or_path: str | None,
    *,
    durability: Durability = "batched",
    read_only: bool = False,
    spill: str | None = None,
    **options: object,
) -> AuditStore:
    """The audit store ``url_or_path`` names.

    ``None``, ``":memory:"`` or ``"memory"``: a ``MemoryAuditStore`` (nothing is
    kept after the process). A file path, or ``sqlite:///path`` (relative) and
    ``sqlite:////abs/path``: a ``SqliteAuditStore``; ``options`` go to it.
    Choosing a default file (``proctor.db``) is the caller's concern.
    ``read_only`` opens a store to read and verify (an archived copy): no
    writer, no schema change, no shard claimed. ``spill``: the file records
    that cannot be written wait in for their replay (docs/audit.md).
    """
    if url_or_path is None or url_or_path in _MEMORY:
        return MemoryAuditStore()
    if url_or_path.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.audit_store import PostgresAuditStore

        return PostgresAuditStore(
            url_or_path, durability=durability, read_only=read_only, spill=spill
        )
    path = url_or_path
    if path.startswith(_SQLITE_URL):
        path = path[len(_SQLITE_URL) :]
    elif "://" in path:
        scheme = path.split("://", 1)[0]
        raise StorageError(
            f"unsupported audit store `{scheme}://`",
            code=STORAGE_UNAVAILABLE,
            hint="use a file path, `sqlite:///path`, `postgresql://...` or `:memory:`",
        )
    return SqliteAuditStore(
        path,
        durability=durability,
        read_only=read_only,
        spill=spill,
        **options,  # type: ignore[arg-type]
    )
