"""The identity store in the SQLite file the audit trail lives in.

Its tables sit next to the audit tables (created on first use, after the
audit schema's own migrations ran, so the file stays recognizably
proctor's). Writes are rare (an agent created, a token revoked) and go
straight through one connection under a lock, each statement committed on
its own; the queries are the shared ones of ``proctor.storage.sql.identity``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from proctor.storage.sql.dialect import SQLITE, Dialect, Statements
from proctor.storage.sql.identity import SqlIdentityStore
from proctor.storage.sql.policy_sets import POLICY_TABLES
from proctor.storage.sqlite.connection import check_location, connect, storage_error
from proctor.storage.sqlite.schema import migrate

IDENTITY_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS identity_agents (
        id TEXT PRIMARY KEY,
        role TEXT,
        tier TEXT NOT NULL,
        owner TEXT,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_credentials (
        agent_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        key_id TEXT NOT NULL,
        digest TEXT,
        public_jwk TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        PRIMARY KEY (kind, key_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_revoked_tokens (
        jti TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        reason TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_used_assertions (
        issuer TEXT NOT NULL,
        jti TEXT NOT NULL,
        keep_until INTEGER NOT NULL,
        PRIMARY KEY (issuer, jti)
    )
    """,
    "CREATE INDEX IF NOT EXISTS identity_used_assertions_keep "
    "ON identity_used_assertions (keep_until)",
)


class SqliteIdentityStore(SqlIdentityStore):
    """``IdentityStore`` over ``path`` (the audit database file)."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        super().__init__(_LockedConnection(path, busy_timeout))


class _LockedConnection:
    """One connection under a lock, each statement committed on its own (a ``SqlDatabase``)."""

    dialect: Dialect = SQLITE

    def __init__(self, path: str, busy_timeout: float) -> None:
        check_location(path)
        self._path = path
        self._lock = threading.Lock()
        self._conn = connect(path, busy_timeout=busy_timeout)
        migrate(self._conn, path)
        try:
            for statement in (*IDENTITY_TABLES, *POLICY_TABLES):  # with the change counters
                self._conn.execute(statement)
        except sqlite3.Error as exc:
            raise storage_error(exc, path, "creating the identity tables") from exc

    @contextmanager
    def transaction(self, doing: str) -> Iterator[Statements]:
        with self._lock:
            try:
                yield Statements(self._conn, SQLITE)
            except sqlite3.Error as exc:
                raise storage_error(exc, self._path, doing) from exc

    reading = transaction

    def close(self) -> None:
        with self._lock:
            self._conn.close()
