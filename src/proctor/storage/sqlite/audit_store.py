"""The SQLite audit store: one file, WAL, one writer thread, batched (group) commits.

``append`` only queues the event: encoding, hashing and the insert run on the
writer thread, which takes up to ``batch_size`` queued events and writes them
in one ``BEGIN IMMEDIATE`` transaction. The store claims one shard of the
log when it opens (shard 1 for a single process; a second process on the
same file gets its own) and releases it on close. Callers that wait
(``wait=True``, or every call under ``sync`` durability) share the commit
of the batch their record lands in.

Failing closed: if a batch cannot be written, its records go to the spill
file (``<path>.spill.jsonl``, or ``spill``), ``failure`` is set, and every
later ``append`` spills its record and raises ``StorageError``
(``storage_unavailable``) until the writer finds the database writable again
and has replayed the spill into the chain (``audit_writer.py``).
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from proctor.audit.chain import GENESIS, ChainHead, StoredRow, VerifyReport
from proctor.audit.checkpoint import Checkpoint
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import (
    STORAGE_CLOSED,
    STORAGE_TIMEOUT,
    STORAGE_UNAVAILABLE,
    StorageError,
    copy_error,
)
from proctor.storage.records import PendingAppend, require_decision_id
from proctor.storage.spill import SpillFile
from proctor.storage.sql import audit_log
from proctor.storage.sql.audit_reads import AuditLogReads
from proctor.storage.sql.dialect import SQLITE, Statements
from proctor.storage.sqlite.audit_writer import AuditBatchWriter, StopWriting
from proctor.storage.sqlite.connection import (
    Durability,
    check_integrity,
    check_location,
    configure_writer,
    connect,
    immediate,
    storage_error,
)
from proctor.storage.sqlite.schema import ROW_COLUMNS, SCHEMA_VERSION, migrate
from proctor.storage.sqlite.write_turns import WriteTurns

_T = TypeVar("_T")

# Strong references: a store dropped without close() must still be flushed at exit.
_OPEN_STORES: set[SqliteAuditStore] = set()
_ROWS_PER_FETCH = 1000


class SqliteAuditStore(AuditLogReads):
    """The ``AuditStore`` contract over one SQLite file.

    ``durability="batched"`` commits at most ``flush_interval`` seconds (or
    ``batch_size`` records) after an append, with ``synchronous=NORMAL``: a
    crash of the process loses nothing committed, a power cut may lose the
    last commits. ``"sync"`` makes every append wait for its commit, with
    ``synchronous=FULL``. ``busy_timeout`` bounds the wait for another
    connection's lock; ``quick_check=False`` skips the integrity check on open
    (it reads the whole file); past ``max_queue`` queued events (default
    ``32 * batch_size``) appends wait for their commit.
    """

    audit_dialect = SQLITE

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability = "batched",
        batch_size: int = 512,
        flush_interval: float = 0.05,
        busy_timeout: float = 5.0,
        quick_check: bool = True,
        max_queue: int | None = None,
        read_only: bool = False,
        spill: str | None = None,
    ) -> None:
        if durability not in ("batched", "sync"):
            raise ValueError(f"durability must be `batched` or `sync`, not `{durability}`")
        if batch_size < 1 or flush_interval <= 0 or busy_timeout < 0:
            raise ValueError("batch_size and flush_interval must be positive")
        check_location(os.fspath(path))
        # Absolute, so a later chdir moves neither the spill file nor the identity check.
        self.path = path = os.path.abspath(path)
        self.durability = durability
        self.read_only = read_only
        self._busy_timeout = busy_timeout
        self._sync = durability == "sync"
        # Past this many queued events an append waits for its commit, so a
        # caller faster than the disk is slowed down instead of filling memory.
        self._max_queue = max_queue if max_queue is not None else 32 * batch_size
        self._pending: deque[AuditEvent | PendingAppend | StopWriting] = deque()
        self._append_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._read_lock = threading.Lock()
        if read_only:  # an archived copy: no writer, no schema change, no shard claimed
            self._read_conn = connect(path, busy_timeout=busy_timeout, read_only=True)
            _check_readable_version(self._read_conn, path)
            self._writer: AuditBatchWriter | None = None
            _OPEN_STORES.add(self)
            return
        write_conn = connect(path, busy_timeout=busy_timeout)
        try:
            if quick_check:
                check_integrity(write_conn, path)
            configure_writer(write_conn, path, durability)
            migrate(write_conn, path)
            self.owner = audit_log.writer_name()
            shard = _claim(write_conn, path, self.owner)
            self._read_conn = connect(path, busy_timeout=busy_timeout, read_only=True)
        except BaseException:
            write_conn.close()
            raise
        self._writer = AuditBatchWriter(
            write_conn,
            path,
            self._pending,
            self._wake,
            spill=SpillFile(os.path.abspath(spill) if spill else f"{path}.spill.jsonl"),
            batch_size=batch_size,
            flush_interval=flush_interval,
            shard=shard,
            owner=self.owner,
            turns=WriteTurns(path, timeout=busy_timeout),
        )
        self._thread = threading.Thread(
            target=self._writer.run, name=f"proctor-audit-writer:{path}", daemon=True
        )
        self._thread.start()
        _OPEN_STORES.add(self)

    def __enter__(self) -> SqliteAuditStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "healthy" if self.healthy else "failed"
        return f"SqliteAuditStore({self.path!r}, durability={self.durability!r}, {state})"

    # -- writing -----------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._writer is None or self._writer.failure is None

    @property
    def failure(self) -> StorageError | None:
        return None if self._writer is None else self._writer.failure

    @property
    def shard(self) -> int | None:
        """The shard this store's writer appends to (None when read-only)."""
        return None if self._writer is None else self._writer.shard.shard

    @property
    def queued(self) -> int:
        """Events appended but not yet taken by the writer (the gateway's queue-depth gauge)."""
        return len(self._pending)

    @property
    def spill(self) -> SpillFile | None:
        """Where unwritten records go, with this process's spilled and replayed counts."""
        return None if self._writer is None else self._writer.spill

    def answer_on_commit(self) -> None:
        """Callers are told a decision only once its record commits (the gateway's barrier):
        a decision record that cannot be written is spilled as the deny they are told."""
        if self._writer is not None:
            self._writer.answer_on_commit = True

    def append(self, event: AuditEvent, *, wait: bool = False) -> None:
        if self._writer is None:
            raise StorageError(
                f"the audit database `{self.path}` is open read-only", code=STORAGE_UNAVAILABLE
            )
        require_decision_id(event)
        failure = self._writer.failure
        if failure is not None:
            self._writer.refuse(event, failure)
            raise StorageError(
                f"the audit store cannot take records: {failure.message}",
                code=STORAGE_UNAVAILABLE,
                hint=f"the record was spilled to `{self._writer.spill.path}`, to be replayed",
            ) from failure
        if not (wait or self._sync or len(self._pending) >= self._max_queue):
            with self._append_lock:
                if self._closed:
                    raise self._closed_error()
                self._pending.append(event)
            # a full batch wakes the writer; once woken, later appends need not set it again
            if len(self._pending) >= self._writer.batch_size and not self._wake.is_set():
                self._wake.set()
            return
        pending = PendingAppend(event)
        self._enqueue(pending)
        pending.done.wait()
        if pending.error is not None:
            raise copy_error(pending.error) from pending.error

    def flush(self, timeout: float | None = None) -> None:
        marker = PendingAppend(None)
        try:
            self._enqueue(marker)
        except StorageError:
            return  # closed: close() already flushed
        if not marker.done.wait(timeout):
            raise StorageError(
                f"the audit store did not write its queue within {timeout} s",
                code=STORAGE_TIMEOUT,
                details={"pending": len(self._pending)},
            )
        if marker.error is not None:
            raise copy_error(marker.error) from marker.error

    def close(self) -> None:
        with self._append_lock:
            closing = not self._closed
            if closing:
                self._closed = True
                self._pending.append(StopWriting())
        if self._writer is None:
            if closing:
                with self._read_lock:
                    self._read_conn.close()
                _OPEN_STORES.discard(self)
            return
        if not closing:
            self._thread.join()  # another thread is closing: return once it is done
            return
        self._wake.set()
        self._thread.join()
        with self._read_lock:
            self._read_conn.close()
        _OPEN_STORES.discard(self)

    def _enqueue(self, item: PendingAppend) -> None:
        with self._append_lock:
            if self._closed:
                raise self._closed_error()
            self._pending.append(item)
        self._wake.set()

    def _closed_error(self) -> StorageError:
        return StorageError(f"the audit store `{self.path}` is closed", code=STORAGE_CLOSED)

    # -- reading -----------------------------------------------------------------

    def head(self) -> ChainHead:
        """The newest row's ``seq`` and ``hash`` (the read cursor's end)."""
        rows = self._read("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return ChainHead(*rows[0]) if rows else GENESIS

    def verify(self, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport:
        """Check every shard in one read snapshot, against ``checkpoints`` (verified) too."""
        with self._snapshot() as conn:
            try:
                rows = conn.execute(f"SELECT {ROW_COLUMNS} FROM audit ORDER BY seq")
                return audit_log.verify_shards(Statements(conn, SQLITE), rows, checkpoints)
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, "verifying it") from exc

    def _statements(self, doing: str, work: Callable[[Statements], _T]) -> _T:
        with self._read_lock:
            if self._closed:
                raise self._closed_error()
            try:
                return work(Statements(self._read_conn, SQLITE))
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, doing) from exc

    @contextmanager
    def _writing(self, doing: str) -> Iterator[Statements]:
        """A short write transaction on its own connection (checkpoints, the checkpointer)."""
        if self._writer is None:
            raise StorageError(
                f"the audit database `{self.path}` is open read-only", code=STORAGE_UNAVAILABLE
            )
        conn = connect(self.path, busy_timeout=self._busy_timeout)
        try:
            with immediate(conn, self.path, doing):
                yield Statements(conn, SQLITE)
        finally:
            conn.close()

    def iter_rows(self) -> Iterator[StoredRow]:
        """Every row in ``seq`` order, from one read snapshot (its own connection)."""
        with self._snapshot() as conn:
            try:
                cursor = conn.execute(f"SELECT {ROW_COLUMNS} FROM audit ORDER BY seq")
                while batch := cursor.fetchmany(_ROWS_PER_FETCH):
                    yield from (StoredRow(*row) for row in batch)
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, "reading it") from exc

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._read_lock:
            if self._closed:
                raise self._closed_error()
            try:
                return self._read_conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path, "reading it") from exc

    def _snapshot(self) -> _ReadSnapshot:
        if self._closed:
            raise self._closed_error()
        return _ReadSnapshot(self.path, self._busy_timeout)


class _ReadSnapshot:
    """A read-only connection inside one transaction: a consistent view while it lasts."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self._path = path
        self._conn = connect(path, busy_timeout=busy_timeout, read_only=True)

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._conn.execute("BEGIN")
        except sqlite3.Error as exc:
            self._conn.close()
            raise storage_error(exc, self._path, "reading it") from exc
        return self._conn

    def __exit__(self, *exc_info: object) -> None:
        self._conn.close()  # ends the read transaction


def _check_readable_version(conn: sqlite3.Connection, path: str) -> None:
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        conn.close()
        raise storage_error(exc, path, "reading it") from exc
    if version != SCHEMA_VERSION:
        conn.close()
        raise StorageError(
            f"the audit database `{path}` has schema version {version}, and read-only this "
            f"proctor reads version {SCHEMA_VERSION}",
            code=STORAGE_UNAVAILABLE,
            hint="verify it with the proctor that wrote it, or upgrade a copy by opening it "
            "(`proctor audit checkpoint --db COPY`)",
        )


def _claim(conn: sqlite3.Connection, path: str, owner: str) -> audit_log.ShardState:
    with immediate(conn, path, "claiming a shard of its log"):
        return audit_log.claim_shard(Statements(conn, SQLITE), owner, time.time())


@atexit.register
def _close_open_stores() -> None:
    """Flush and close stores still open at interpreter exit, so no returned append is lost."""
    for store in list(_OPEN_STORES):
        store.close()
