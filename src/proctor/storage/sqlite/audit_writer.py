"""The writer thread of the SQLite audit store: drain the queue, chain, insert, commit.

It owns the write connection. Each batch is one ``BEGIN IMMEDIATE``
transaction that reads the head, chains every record after it, inserts them
with ``executemany``, moves the head and commits; then everyone waiting on a
record or a flush in that batch is released together (group commit).
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
from collections import deque
from typing import Any

from proctor.audit.chain import chain_record, indexed_columns
from proctor.audit.errors import AuditError
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import DUPLICATE_RECORD, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.records import PendingAppend
from proctor.storage.spill import SpillFile
from proctor.storage.sqlite.connection import file_identity, storage_error
from proctor.storage.sqlite.schema import INSERT_RECORD, UPDATE_HEAD, read_head

_IDS_PER_QUERY = 500  # below SQLite's smallest limit on bound parameters


class StopWriting:
    """The last item of the queue: ``close()`` puts it there after everything else."""


QueueItem = AuditEvent | PendingAppend | StopWriting
Entry = tuple[AuditEvent, PendingAppend | None]


class AuditBatchWriter:
    """Writes queued events in batches; after a failure, spills whatever is queued."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str,
        pending: deque[QueueItem],
        wake: threading.Event,
        *,
        spill: SpillFile,
        batch_size: int,
        flush_interval: float,
    ) -> None:
        self.path = path
        self.spill = spill
        self.batch_size = batch_size
        self.failure: StorageError | None = None
        self._conn = conn
        self._pending = pending
        self._wake = wake
        self._flush_interval = flush_interval
        self._identity = file_identity(path)

    def run(self) -> None:
        """The thread's body: returns after writing everything queued before ``StopWriting``."""
        full = False
        try:
            while True:
                # Wait for a full batch, a waiting caller or the interval; after
                # a full batch there is more queued, so go straight on.
                if not full and len(self._pending) < self.batch_size:
                    self._wake.wait(self._flush_interval)
                self._wake.clear()
                entries, markers, stop, full = self._drain()
                if entries or markers:
                    self._write(entries, markers)
                if stop:
                    return
        finally:
            self._conn.close()

    def _drain(self) -> tuple[list[Entry], list[PendingAppend], bool, bool]:
        entries: list[Entry] = []
        markers: list[PendingAppend] = []
        pop = self._pending.popleft
        while len(entries) < self.batch_size:
            try:
                item = pop()
            except IndexError:
                return entries, markers, False, False
            if isinstance(item, AuditEvent):
                entries.append((item, None))
            elif isinstance(item, PendingAppend):
                if item.event is None:
                    markers.append(item)
                else:
                    entries.append((item.event, item))
            else:
                return entries, markers, True, False
        return entries, markers, False, True

    def _write(self, entries: list[Entry], markers: list[PendingAppend]) -> None:
        error = self.failure
        rejected: dict[int, ProctorError] = {}
        try:
            if error is None:
                try:
                    rejected = self._commit(entries)
                except StorageError as exc:
                    error = exc
                except Exception as exc:  # a bug must neither lose records nor strand waiters
                    error = StorageError(
                        f"the audit writer failed unexpectedly: {exc!r}", code=STORAGE_UNAVAILABLE
                    )
                    error.__cause__ = exc
                if error is not None:
                    self._fail(error)
            if error is not None:
                self._spill([event for event, _ in entries], error)
            for index, problem in rejected.items():
                self._spill([entries[index][0]], problem)
        finally:
            for index, (_, waiter) in enumerate(entries):
                if waiter is not None:
                    waiter.error = rejected.get(index, error)
                    waiter.done.set()
            for marker in markers:
                marker.error = error
                marker.done.set()

    def _commit(self, entries: list[Entry]) -> dict[int, ProctorError]:
        """Write one batch; returns the records refused one by one (duplicates, unencodable)."""
        try:
            try:
                rejected = self._insert(entries, dedupe=False)
            except sqlite3.IntegrityError:
                # Rare: a decision id stored already. Redo the batch without it.
                self._rollback()
                rejected = self._insert(entries, dedupe=True)
        except sqlite3.Error as exc:
            self._rollback()
            raise storage_error(exc, self.path, "writing audit records") from exc
        except BaseException:
            self._rollback()
            raise
        if file_identity(self.path) != self._identity:
            raise StorageError(
                f"the audit database `{self.path}` was removed or replaced while open, "
                "so the last records went to a file no one can read",
                code=STORAGE_UNAVAILABLE,
                hint="restore the file and restart; the records are in the spill file",
            )
        return rejected

    def _insert(self, entries: list[Entry], *, dedupe: bool) -> dict[int, ProctorError]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        seq, prev_hash = read_head(conn, self.path)
        seen = self._stored_ids(entries) if dedupe else set()
        rejected: dict[int, ProctorError] = {}
        rows: list[tuple[Any, ...]] = []
        for index, (event, _) in enumerate(entries):
            if dedupe:
                if event.decision_id in seen:
                    rejected[index] = StorageError(
                        f"a record with decision id `{event.decision_id}` is stored already",
                        code=DUPLICATE_RECORD,
                    )
                    continue
                seen.add(event.decision_id)
            payload = event.to_payload()
            try:
                chained = chain_record(payload, seq + 1, prev_hash)
            except AuditError as exc:
                rejected[index] = exc
                continue
            seq, prev_hash = chained.seq, chained.hash
            rows.append((seq, *indexed_columns(payload), prev_hash, chained.body.decode("utf-8")))
        if rows:
            conn.executemany(INSERT_RECORD, rows)
            conn.execute(UPDATE_HEAD, (seq, prev_hash))
        conn.execute("COMMIT")
        return rejected

    def _stored_ids(self, entries: list[Entry]) -> set[str]:
        ids = [event.decision_id for event, _ in entries]
        found: set[str] = set()
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT decision_id FROM audit WHERE decision_id IN ({marks})"
            found.update(row[0] for row in self._conn.execute(sql, chunk))
        return found

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            # The failure being handled is the one to report, not this one.
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _fail(self, error: StorageError) -> None:
        self.failure = error
        _note(
            f"proctor: the audit store `{self.path}` failed and takes no more records: "
            f"{error.message}; unwritten records go to `{self.spill.path}`\n"
        )

    def _spill(self, events: list[AuditEvent], error: ProctorError) -> None:
        self.spill.write(
            [event.to_payload() for event in events], code=error.code, reason=error.message
        )


def _note(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
