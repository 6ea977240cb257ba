"""Opening SQLite files for proctor, and turning sqlite3 exceptions into ``StorageError``.

The only module of the SQLite backend that decides pragmas or reads driver
error codes: the rest goes through ``connect`` and ``storage_error``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from proctor.storage.errors import (
    STORAGE_CORRUPT,
    STORAGE_LOCKED,
    STORAGE_UNAVAILABLE,
    StorageError,
)

Durability = Literal["batched", "sync"]

# WAL lets readers go on while the writer commits; NORMAL syncs at checkpoints
# only (a power cut may drop the last commits, never corrupt), FULL syncs on
# every commit.
_SYNCHRONOUS = {"batched": "NORMAL", "sync": "FULL"}
_LOCKED = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_WAL_RETRY_SECONDS = 0.01


def storage_error(exc: sqlite3.Error, path: str, doing: str) -> StorageError:
    """The ``StorageError`` for ``exc``, raised while ``doing`` something with ``path``.

    Callers ``raise storage_error(...) from exc`` so the driver's error stays the cause.
    """
    name = getattr(exc, "sqlite_errorname", None) or ""
    if name in _LOCKED or "locked" in str(exc):
        return StorageError(
            f"the audit database `{path}` is locked by another connection ({doing}: {exc})",
            code=STORAGE_LOCKED,
            hint="another process holds a write lock past the busy timeout",
            details={"sqlite_error": name},
        )
    if name in _CORRUPT or "malformed" in str(exc) or "not a database" in str(exc):
        return StorageError(
            f"`{path}` is not a usable SQLite database ({doing}: {exc})",
            code=STORAGE_CORRUPT,
            hint="restore it from a backup or move it aside; proctor will not overwrite it",
            details={"sqlite_error": name},
        )
    return StorageError(
        f"the audit database `{path}` is unavailable ({doing}: {exc})",
        code=STORAGE_UNAVAILABLE,
        details={"sqlite_error": name},
    )


def connect(path: str, *, busy_timeout: float, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any one thread."""
    target = f"{Path(path).absolute().as_uri()}?mode=ro" if read_only else path
    try:
        conn = sqlite3.connect(
            target,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=read_only,
        )
    except sqlite3.Error as exc:
        raise storage_error(exc, path, "opening it") from exc
    return conn


def configure_writer(conn: sqlite3.Connection, path: str, durability: Durability) -> None:
    """WAL mode and the synchronous level ``durability`` asks for, and the writer's cache."""
    use_wal(conn, path, durability)
    try:
        # index pages stay in memory across batches (32 MiB, the writer's only)
        conn.execute("PRAGMA cache_size=-32768")
    except sqlite3.Error as exc:
        raise storage_error(exc, path, "setting it up") from exc


def use_wal(conn: sqlite3.Connection, path: str, durability: Durability) -> None:
    """WAL mode (``storage_unavailable`` where the file system refuses it) and the
    synchronous level ``durability`` asks for: every file proctor writes."""
    try:
        mode = switch_to_wal(conn)
        conn.execute(f"PRAGMA synchronous={_SYNCHRONOUS[durability]}")
    except sqlite3.Error as exc:
        raise storage_error(exc, path, "setting it up") from exc
    if str(mode).lower() != "wal":
        raise StorageError(
            f"the database `{path}` cannot use write-ahead logging (journal mode `{mode}`)",
            code=STORAGE_UNAVAILABLE,
            hint="put it on a local file system",
        )


def switch_to_wal(conn: sqlite3.Connection) -> object:
    """``PRAGMA journal_mode=WAL``, retried within the connection's busy timeout.

    Switching a new file to WAL takes an exclusive lock, and SQLite reports
    ``database is locked`` at once, without its busy handler, when another
    process is opening the same file at that moment (workers, replicas and SDK
    processes starting together).
    """
    timeout_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            return conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(_WAL_RETRY_SECONDS)


def check_integrity(conn: sqlite3.Connection, path: str) -> None:
    """``PRAGMA quick_check``: fail with ``storage_corrupt`` on a damaged or foreign file."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise storage_error(exc, path, "checking it") from exc
    if problems != ["ok"]:
        raise StorageError(
            f"the audit database `{path}` is damaged: {'; '.join(map(str, problems[:3]))}",
            code=STORAGE_CORRUPT,
            hint="restore it from a backup or move it aside; proctor will not overwrite it",
            details={"problems": [str(problem) for problem in problems[:20]]},
        )


def check_location(path: str) -> None:
    """A clear error for paths SQLite would reject with a vague one."""
    if path in ("", ":memory:") or path.startswith("file:"):
        raise StorageError(
            f"the SQLite audit store needs a file path, not `{path}`",
            code=STORAGE_UNAVAILABLE,
            hint="use `:memory:` with open_audit_store for an in-memory store",
        )
    if os.path.isdir(path):
        raise StorageError(f"the audit database `{path}` is a directory", code=STORAGE_UNAVAILABLE)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise StorageError(
            f"the directory of the audit database `{path}` does not exist",
            code=STORAGE_UNAVAILABLE,
        )


def file_identity(path: str) -> tuple[int, int] | None:
    """The file's (device, inode), or None when it is gone: spots a database removed while open."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


@contextmanager
def immediate(conn: sqlite3.Connection, path: str, doing: str) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: committed, or rolled back on any error;
    sqlite3 errors come out as ``StorageError`` naming ``doing``."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise storage_error(exc, path, doing) from exc
