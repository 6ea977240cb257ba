"""The writer thread of the SQLite audit store: drain the queue, chain, insert, commit.

It owns the write connection and one shard of the log. Each batch is built
and hashed from the shard's head it keeps in memory (chain, Merkle leaves and
nodes), then written in one ``BEGIN IMMEDIATE`` transaction that checks the
shard's last row, inserts, moves the shard's head and commits; then everyone
waiting on a record or a flush in that batch is released together (group commit).

After a failure it probes the database with a small write, backing off from
50 ms to 1 s; once a probe commits, it replays the spill (``spill_replay.py``)
and takes records again, without a restart (a disk freed, a lock released).
A database replaced or found changed behind its back is never resumed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections import deque

from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import STORAGE_LOCKED, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.records import PendingAppend
from proctor.storage.spill import SpillFile
from proctor.storage.spill_replay import ProbeSchedule, replay_spill, spill_unwritten
from proctor.storage.sql.audit_log import (
    LEASE_SECONDS,
    Batch,
    ShardState,
    build_batch,
    check_shard_end,
    release_shard,
    renew_lease,
    stored_ids,
    write_batch,
)
from proctor.storage.sql.dialect import SQLITE, Statements
from proctor.storage.sqlite.connection import file_identity, storage_error
from proctor.storage.sqlite.write_turns import WriteTurns


class StopWriting:
    """The last item of the queue: ``close()`` puts it there after everything else."""


QueueItem = AuditEvent | PendingAppend | StopWriting
Entry = tuple[AuditEvent, PendingAppend | None]
_RESUMABLE = frozenset((STORAGE_UNAVAILABLE, STORAGE_LOCKED))


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
        shard: ShardState,
        owner: str,
        turns: WriteTurns,
    ) -> None:
        self.path = path
        self._turns = turns  # taken before each transaction: the file's other writers queue
        self.shard = shard
        self.owner = owner
        self._renew_at = time.time() + LEASE_SECONDS / 3
        self.spill = spill
        self.batch_size = batch_size
        self.failure: StorageError | None = None
        self._conn = conn
        self._pending = pending
        self._wake = wake
        self._flush_interval = flush_interval
        self._identity = file_identity(path)
        # The gateway answers a check only once its record commits, so a decision record
        # that cannot be written was answered deny: it is spilled as that deny.
        self.answer_on_commit = False
        self._probe = ProbeSchedule()

    def run(self) -> None:
        """The thread's body: returns after writing everything queued before ``StopWriting``."""
        full = False
        if self.spill.pending():  # left by an earlier process (or a replay cut short)
            self._replay_or_fail()
        try:
            while True:
                # Wait for a full batch, a waiting caller or the interval; after
                # a full batch there is more queued, so go straight on.
                if not full and len(self._pending) < self.batch_size:
                    self._wake.wait(self._pause())
                self._wake.clear()
                entries, markers, stop, full = self._drain()
                if self.failure is not None and not stop and self._probe.due():
                    self._recover()
                if entries or markers:
                    self._write(entries, markers)
                elif self.failure is None and time.time() > self._renew_at:
                    self._renew()
                if stop:
                    if self.failure is None and self.spill.pending():  # spilled as it resumed
                        self._replay_or_fail()
                    return
        finally:
            if self.failure is None:
                with contextlib.suppress(sqlite3.Error):
                    release_shard(Statements(self._conn, SQLITE), self.shard, self.owner)
            self._conn.close()
            self._turns.close()

    def _pause(self) -> float:
        """The idle wait: the flush interval, or less when a probe is due sooner."""
        if self.failure is None:
            return self._flush_interval
        return max(0.0, min(self._flush_interval, self._probe.at - time.monotonic()))

    def _renew(self) -> None:
        """Keep the shard's lease while idle, so no other writer takes it."""
        with contextlib.suppress(sqlite3.Error):  # the next batch renews it or fails loudly
            renew_lease(Statements(self._conn, SQLITE), self.shard, self.owner, time.time())
            self._renew_at = time.time() + LEASE_SECONDS / 3

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
                told_deny = [waiter is not None or self.answer_on_commit for _, waiter in entries]
                spill_unwritten(self.spill, [event for event, _ in entries], error, told_deny)
            for index, problem in rejected.items():  # refused on their own: kept aside
                event = entries[index][0]
                self.spill.write(
                    [event.to_payload()], code=problem.code, reason=problem.message, kept=True
                )
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
        events = [event for event, _ in entries]
        batch = build_batch(self.shard, events)  # chained and hashed before the lock
        try:
            try:
                self._insert(batch)
            except sqlite3.IntegrityError:
                # Rare: a decision id stored already. Rebuild the batch without it.
                self._rollback()
                stored = stored_ids(Statements(self._conn, SQLITE), [e.decision_id for e in events])
                batch = build_batch(self.shard, events, stored)
                self._insert(batch)
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
        assert batch.after is not None
        self.shard = batch.after
        self._renew_at = time.time() + LEASE_SECONDS / 3
        return batch.rejected

    def _insert(self, batch: Batch) -> None:
        conn = self._conn
        with self._turns.turn():
            conn.execute("BEGIN IMMEDIATE")
            statements = Statements(conn, SQLITE)
            check_shard_end(statements, self.shard, self.path)
            write_batch(statements, self.shard, batch, self.owner, time.time())
            conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            # The failure being handled is the one to report, not this one.
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _fail(self, error: StorageError) -> None:
        self.failure = error
        self._probe.failed()
        _note(
            f"proctor: the audit store `{self.path}` failed and takes no records until it "
            f"writes again: {error.message}; unwritten records go to `{self.spill.path}`\n"
        )

    def refuse(self, event: AuditEvent, failure: StorageError) -> None:
        """Spill an append refused at the door: its caller is told deny."""
        spill_unwritten(self.spill, [event], failure, [True])

    # -- resuming ----------------------------------------------------------------

    def _recover(self) -> None:
        """Probe with a small write; if it commits, replay the spill and take records again."""
        failure = self.failure
        if failure is None or failure.code not in _RESUMABLE:
            self._probe.never()  # damaged or changed: a person looks first
            return
        if file_identity(self.path) != self._identity:
            self._probe.never()
            return
        try:
            self._write_probe()
            if not self._replay():
                _note(f"proctor: the audit store `{self.path}` writes again\n")
        except Exception:  # still failing: spilled records stay for the next probe
            self._probe.again()

    def _write_probe(self) -> None:
        try:
            with self._turns.turn():
                self._conn.execute("BEGIN IMMEDIATE")
                statements = Statements(self._conn, SQLITE)
                check_shard_end(statements, self.shard, self.path)
                renew_lease(statements, self.shard, self.owner, time.time())
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise storage_error(exc, self.path, "probing it") from exc
        except BaseException:
            self._rollback()
            raise

    def _replay(self) -> bool:
        """Replay the spill; True when it said what it replayed."""
        report = replay_spill(
            self.spill,
            lambda events: self._commit([(event, None) for event in events]),
            batch_size=self.batch_size,
            resume=self._resume,
        )
        said = report.said if report is not None else ""
        if said:
            _note(f"proctor: the audit store `{self.path}` writes again: {said}\n")
        return bool(said)

    def _replay_or_fail(self) -> None:
        try:
            self._replay()
        except StorageError as exc:
            self._fail(exc)
        except Exception as exc:  # a bug must not lose the spill: it stays for a later replay
            error = StorageError(f"replaying the spill failed: {exc!r}", code=STORAGE_UNAVAILABLE)
            error.__cause__ = exc
            self._fail(error)

    def _resume(self) -> None:
        self.failure = None


def _note(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
