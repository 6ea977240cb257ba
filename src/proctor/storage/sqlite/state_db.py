"""Counters, runs, approvals and provenance in the SQLite file the audit trail lives in.

Their tables sit next to the audit tables (created on first use, after the
audit schema's own migrations ran, so the file stays recognizably
proctor's), on a connection of their own, apart from the audit writer thread:
every operation that decides is one short ``BEGIN IMMEDIATE`` transaction,
which takes SQLite's write lock first, so check-and-increment is atomic
across the threads of a process (one lock around the connection) and across
processes (the file lock).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from proctor.storage.errors import STORAGE_CLOSED, StorageError
from proctor.storage.sql.approvals import APPROVALS_TABLES
from proctor.storage.sql.dialect import SQLITE, Dialect, Statements
from proctor.storage.sql.runs import RUNS_TABLE
from proctor.storage.sqlite.connection import (
    check_location,
    connect,
    storage_error,
    use_wal,
)
from proctor.storage.sqlite.schema import migrate

STATE_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS limit_counters (
        key TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        window_seconds INTEGER NOT NULL,
        total REAL NOT NULL,
        PRIMARY KEY (key, window_start)
    ) WITHOUT ROWID
    """,
    RUNS_TABLE,
    *APPROVALS_TABLES,
    """
    CREATE TABLE IF NOT EXISTS provenance_values (
        run_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        trusted INTEGER NOT NULL,
        tool TEXT,
        call TEXT,
        at TEXT,
        created REAL NOT NULL,
        PRIMARY KEY (run_id, value, kind, trusted)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS provenance_created ON provenance_values (created)",
)


class StateDatabase:
    """One connection to the state file, used by one thread at a time (a ``SqlDatabase``)."""

    dialect: Dialect = SQLITE

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        check_location(path)
        self.path = path
        self._lock = threading.Lock()
        self._closed = False
        self._conn = connect(path, busy_timeout=busy_timeout)
        try:
            use_wal(self._conn, path, "batched")  # synchronous=NORMAL
            migrate(self._conn, path)
            with self.transaction(
                "creating the counter, run, approval and provenance tables"
            ) as sql:
                for statement in STATE_TABLES:
                    sql.run(statement)
        except sqlite3.Error as exc:
            self._conn.close()
            raise storage_error(exc, path, "setting it up") from exc
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def transaction(self, doing: str) -> Iterator[Statements]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any error (translated here)."""
        with self._held(doing) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Statements(conn, SQLITE)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def reading(self, doing: str) -> Iterator[Statements]:
        with self._held(doing) as conn:
            yield Statements(conn, SQLITE)

    @contextmanager
    def _held(self, doing: str) -> Iterator[sqlite3.Connection]:
        """The open connection, the lock held; a ``sqlite3.Error`` becomes a ``StorageError``."""
        with self._lock:
            conn = self._open_connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, doing) from exc

    def _open_connection(self) -> sqlite3.Connection:
        """The connection, unless the database was closed (call holding the lock)."""
        if self._closed:
            raise StorageError(f"the counter store of `{self.path}` is closed", code=STORAGE_CLOSED)
        return self._conn

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def clear(self) -> None:
        """Forget every counter, run, approval and provenance row (the demo replays one day)."""
        with self.transaction("clearing counters, runs and approvals") as sql:
            for table in ("limit_counters", "runs", "approvals", "provenance_values"):
                sql.run(f"DELETE FROM {table}")


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (a failed COMMIT may have ended it)."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
