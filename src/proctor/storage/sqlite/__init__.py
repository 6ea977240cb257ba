"""The embedded SQLite backend: one file, WAL, one writer thread, batched commits."""

from proctor.storage.sqlite.audit_store import SqliteAuditStore

__all__ = ["SqliteAuditStore"]
