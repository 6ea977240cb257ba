"""The audit log in PostgreSQL, shared by every replica: one shard per writer.

One writer thread per process takes the queued events, chains and hashes
them onto its own shard (built in memory, before any transaction), and
writes them in one transaction that inserts the rows and tree nodes and moves
its own shard's row, only if that row still holds the head it built on.
Replicas never wait on each other's rows; row ids come from a sequence.
Callers that wait share the commit of their batch (group commit). Each
batch's transaction is bounded (``deadlines.py``): a server that stops
answering fails the batch with ``storage_timeout`` within the bound. A
write that fails before COMMIT is retried once (not one that timed out: the
server is not answering); a failed write makes the store unhealthy: its
records go to a local spill file (``spill.py``), and later appends spill
theirs and raise ``StorageError`` (the runtime's deny), as with SQLite, until
a probe (in a thread of its own, so that the writer refuses at once
meanwhile) finds the database answering (the shard is then claimed again,
from the head the database holds) and the spill has been
replayed into the chain (``spill_replay.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from proctor.audit.chain import GENESIS, ChainHead, StoredRow, VerifyReport
from proctor.audit.checkpoint import Checkpoint
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import (
    STORAGE_CLOSED,
    STORAGE_TIMEOUT,
    STORAGE_UNAVAILABLE,
    StorageError,
)
from proctor.storage.postgres.connection import database_name, open_pool, storage_error, transaction
from proctor.storage.postgres.deadlines import STALL_SECONDS, Progress, bounded
from proctor.storage.records import PendingAppend, require_decision_id
from proctor.storage.spill import SpillFile
from proctor.storage.spill_replay import ProbeSchedule, replay_spill, spill_unwritten
from proctor.storage.sql import audit_log
from proctor.storage.sql.audit_reads import AuditLogReads
from proctor.storage.sql.dialect import POSTGRES, Statements

_ROW_COLUMNS = (
    "seq, hash, body, decision_id, ts, kind, user_sub, agent_id, action, effect, run_id, "
    "shard, position"
)
_ROWS_PER_FETCH = 1000
_T = TypeVar("_T")
_PROBE_SECONDS = 0.5
# Archiving, checkpoints and proofs move or read many rows, off the check's path: a
# frozen server still fails them, later.
_BULK_SECONDS = 120.0


_APPENDING = 0x61756474  # "audt": the advisory lock writers share and readers wait on


class PostgresAuditStore(AuditLogReads):
    """The ``AuditStore`` contract over PostgreSQL (``url``: ``postgresql://...``)."""

    audit_dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        durability: str = "batched",
        batch_size: int = 512,
        flush_interval: float = 0.05,
        pool: ConnectionPool | None = None,
        read_only: bool = False,
        spill: str | None = None,
    ) -> None:
        self.url = url
        self.database = database_name(url)  # for messages: no password
        self.stall_seconds = STALL_SECONDS  # a long read's wait for the server's next rows
        self.read_only = read_only
        self.durability = durability
        self._sync = durability == "sync"
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._pool = pool or open_pool(url)
        self._pending: deque[PendingAppend] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._failure: StorageError | None = None
        self._probe_schedule = ProbeSchedule()
        self.spill = SpillFile(os.path.abspath(spill or default_spill_path(url)))
        # The gateway answers a check only once its record commits: a decision record that
        # cannot be written was answered deny, and is spilled as that deny.
        self._answer_on_commit = False
        self.owner = audit_log.writer_name()
        self._shard: audit_log.ShardState | None = None
        if not read_only:
            try:
                with transaction(self._pool, "claiming a shard of the audit log") as conn:
                    self._shard = audit_log.claim_shard(
                        Statements(conn, POSTGRES), self.owner, time.time()
                    )
            except BaseException:
                if pool is None:
                    self._pool.close()
                raise
        self._renew_at = time.time() + audit_log.LEASE_SECONDS / 3
        self._committing = False
        self._answers = threading.Event()  # the database answered the prober since the failure
        self._prober: threading.Thread | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proctor-pg-audit", daemon=True)
        self._thread.start()

    @property
    def shard(self) -> int | None:
        """The shard this store's writer appends to (None when read-only)."""
        return None if self._shard is None else self._shard.shard

    # -- writing -----------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._failure is None

    @property
    def failure(self) -> StorageError | None:
        return self._failure

    @property
    def queued(self) -> int:
        return len(self._pending)

    def answer_on_commit(self) -> None:
        """Callers are told a decision only once its record commits (the gateway's barrier)."""
        self._answer_on_commit = True

    def append(self, event: AuditEvent, *, wait: bool = False) -> None:
        if self._shard is None:
            raise StorageError("the audit store is open read-only", code=STORAGE_UNAVAILABLE)
        require_decision_id(event)
        failure = self._failure
        if failure is not None:  # kept for the replay, as the deny its caller is told
            spill_unwritten(self.spill, [event], failure, [True])
            raise StorageError(
                f"the audit store cannot take records: {failure.message}",
                code=failure.code,
                hint=f"the record was spilled to `{self.spill.path}`, to be replayed",
            ) from failure
        item = PendingAppend(event, waits=wait or self._sync)
        self._enqueue(item, urgent=wait or self._sync)
        if wait or self._sync:
            item.done.wait()
            if item.error is not None:
                raise item.error

    def flush(self, timeout: float | None = None) -> None:
        marker = PendingAppend(None)
        try:
            self._enqueue(marker, urgent=True)
        except StorageError:
            return
        if not marker.done.wait(timeout):
            raise StorageError("the audit store did not flush in time", code="storage_timeout")
        if marker.error is not None:
            raise marker.error

    def close(self) -> None:
        with self._wake:
            if self._closed:
                return
            self._closed = True
            self._stopping.set()
            self._wake.notify_all()
        self._thread.join()
        self._pool.close()

    def _enqueue(self, item: PendingAppend, *, urgent: bool) -> None:
        with self._wake:
            if self._closed:
                raise StorageError("the audit store is closed", code=STORAGE_CLOSED)
            self._pending.append(item)
            if urgent or len(self._pending) >= self._batch_size:
                self._wake.notify()

    def _run(self) -> None:
        if self._shard is not None and self.spill.pending():  # left by an earlier process
            self._replay_at_start()
        while True:
            with self._wake:
                if not self._pending and not self._closed:
                    self._wake.wait(self._flush_interval)
                batch = [
                    self._pending.popleft()
                    for _ in range(min(len(self._pending), self._batch_size))
                ]
                stop = self._closed and not self._pending
            if (
                self._failure is not None
                and not stop
                and (self._probe_schedule.due() or self._answers.is_set())
            ):
                self._recover()
            if batch:
                self._write(batch)
            elif self._failure is None and time.time() > self._renew_at:
                self._renew()
            if stop:
                if self._failure is None and self.spill.pending():  # spilled as it resumed
                    self._replay_at_start()
                self._release()
                return

    def _renew(self) -> None:
        """Keep the shard's lease while idle, so no other replica takes it."""
        if self._shard is None:
            return
        try:
            with transaction(self._pool, "renewing the shard's lease") as conn:
                audit_log.renew_lease(
                    Statements(conn, POSTGRES), self._shard, self.owner, time.time()
                )
            self._renew_at = time.time() + audit_log.LEASE_SECONDS / 3
        except StorageError:
            pass  # the next batch renews it, or fails loudly

    def _release(self) -> None:
        if self._shard is None or self._failure is not None:
            return
        try:
            with transaction(self._pool, "releasing the shard") as conn:
                audit_log.release_shard(Statements(conn, POSTGRES), self._shard, self.owner)
        except StorageError:
            pass  # its lease runs out instead

    def _write(self, batch: list[PendingAppend]) -> None:
        events = [item for item in batch if item.event is not None]
        error = self._failure
        # A failure before COMMIT is retried once (the pool checks out a fresh connection).
        for _attempt in range(2 if error is None and events else 0):
            self._committing = False
            try:
                self._commit(events)
                error = None
                break
            except StorageError as exc:
                error = exc
            except Exception as exc:  # a bug must not strand the waiters
                error = storage_error(exc, "writing audit records")
            if self._committing or error.code == STORAGE_TIMEOUT:
                break  # the COMMIT's outcome is unknown, or the server is not answering
        if error is not None:  # refused until the database answers again (`_recover`)
            if self._failure is None:
                self._fail(error)
            told_deny = [item.waits or self._answer_on_commit for item in events]
            unwritten = [item.event for item in events if item.event is not None]
            spill_unwritten(self.spill, unwritten, error, told_deny)
        else:  # refused one by one (a duplicate id, content JCS cannot encode): kept aside
            for item in batch:
                if item.event is not None and item.error is not None:
                    payload, problem = item.event.to_payload(), item.error
                    self.spill.write(
                        [payload], code=problem.code, reason=problem.message, kept=True
                    )
        for item in batch:
            if item.error is None:
                item.error = error
            item.done.set()

    def _commit(self, items: list[PendingAppend]) -> None:
        assert self._shard is not None
        events = [item.event for item in items if item.event is not None]
        batch = audit_log.build_batch(
            self._shard, events
        )  # chained and hashed before the transaction
        try:
            self._insert(batch)
        except _DuplicateId:
            with transaction(self._pool, "reading stored decision ids") as conn:
                stored = audit_log.stored_ids(
                    Statements(conn, POSTGRES), [event.decision_id for event in events]
                )
            batch = audit_log.build_batch(self._shard, events, stored)
            self._insert(batch)
        for index, problem in batch.rejected.items():
            items[index].error = problem
        assert batch.after is not None
        self._shard = batch.after
        self._renew_at = time.time() + audit_log.LEASE_SECONDS / 3

    def _insert(self, batch: audit_log.Batch) -> None:
        assert self._shard is not None
        try:
            with self._pool.connection() as conn, bounded(conn), conn.transaction():
                # shared among writers (they never wait for one another); a reader's
                # exclusive hold waits for the batches in flight (see _settled_below)
                conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (_APPENDING,))
                audit_log.write_batch(
                    Statements(conn, POSTGRES), self._shard, batch, self.owner, time.time()
                )
                self._committing = True  # leaving the block sends COMMIT
        except psycopg.errors.UniqueViolation as exc:
            if "decision_id" in str(exc.diag.constraint_name or ""):
                raise _DuplicateId from exc
            raise storage_error(exc, "writing audit records") from exc
        except (psycopg.Error, PoolTimeout) as exc:
            raise storage_error(exc, "writing audit records") from exc

    def _fail(self, error: StorageError) -> None:
        self._failure = error
        self._probe_schedule.failed()
        self._ask()
        _note(
            f"proctor: the PostgreSQL audit store failed and takes no records until the "
            f"database answers: {error.message}; unwritten records go to `{self.spill.path}`"
        )

    def _recover(self) -> None:
        """After a failure, take records again as soon as the database answers a probe
        and the spill is replayed into the chain."""
        said: str | None = None
        try:
            if self._probe():
                said = self._replay()
        except Exception:  # failing again: the spill stays for the next probe
            said = None
        if said is None or self._failure is not None:
            self._probe_schedule.again()
            if self._answers.is_set():  # it answered, then failed again: ask anew
                self._ask()
            return
        _note("proctor: the PostgreSQL audit store writes again" + said)

    def _ask(self) -> None:
        self._answers.clear()
        if self._prober is None or not self._prober.is_alive():
            self._prober = threading.Thread(
                target=self._ask_until_answered, name="proctor-pg-probe", daemon=True
            )
            self._prober.start()

    def _ask_until_answered(self) -> None:
        """While failed, ask the database every ``_PROBE_SECONDS`` until it answers: off the
        writer, since a server that does not answer makes each question wait out its bound."""
        while not self._closed and not self._answers.is_set():
            try:
                with (
                    self._pool.connection(timeout=_PROBE_SECONDS) as conn,
                    bounded(conn, _PROBE_SECONDS),
                ):
                    conn.execute("SELECT 1")
                self._answers.set()
            except Exception:  # still down (or closing): ask again
                self._stopping.wait(_PROBE_SECONDS)

    def _probe(self) -> bool:
        """True once the database answers and the shard is claimed again."""
        if not self._answers.is_set():  # not yet (the prober thread asks)
            return False
        if self._shard is not None:  # a COMMIT whose outcome was unknown may have moved it
            with transaction(self._pool, "claiming a shard of the audit log") as conn:
                self._shard = audit_log.claim_shard(
                    Statements(conn, POSTGRES), self.owner, time.time()
                )
        return True

    def _replay(self) -> str:
        """Replay the spill into the chain, then take records again; says what it replayed."""
        report = replay_spill(
            self.spill, self._commit_events, batch_size=self._batch_size, resume=self._resume
        )
        said = report.said if report is not None else ""
        return f": {said}" if said else ""

    def _resume(self) -> None:
        self._failure = None

    def _replay_at_start(self) -> None:
        try:
            said = self._replay()
        except Exception as exc:  # still failing: the spill stays for the next probe
            self._fail(storage_error(exc, "replaying the audit spill"))
            return
        if said:
            _note("proctor: the PostgreSQL audit store" + said)

    def _commit_events(self, events: list[AuditEvent]) -> dict[int, ProctorError]:
        items = [PendingAppend(event) for event in events]
        self._commit(items)
        return {index: item.error for index, item in enumerate(items) if item.error is not None}

    # -- reading -----------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self._closed:
            raise StorageError("the audit store is closed", code=STORAGE_CLOSED)
        with transaction(self._pool, f"reading audit records from `{self.database}`") as conn:
            return conn.execute(sql, params).fetchall()

    def _settled_below(self) -> int | None:
        # Seq numbers come from a sequence as each writer inserts, so one writer's batch can
        # commit after another's higher numbers. Once every batch in flight has ended (the
        # exclusive hold waits for them, new ones wait for it: a moment), every seq handed
        # out so far is committed or gone for good.
        with transaction(self._pool, "reading the audit's commit horizon") as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_APPENDING,))
            row = conn.execute("SELECT last_value, is_called FROM audit_row_ids").fetchone()
        assert row is not None  # a sequence has one row
        last, called = row
        return int(last) + 1 if called else int(last)

    def head(self) -> ChainHead:
        """The newest row's ``seq`` and ``hash`` (the read cursor's end)."""
        rows = self._read("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return ChainHead(int(rows[0][0]), str(rows[0][1])) if rows else GENESIS

    def verify(self, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport:
        """Every shard against its head (and ``checkpoints``), in one REPEATABLE READ snapshot."""
        with self._all_rows("verifying the audit chain", snapshot=True) as (conn, rows):
            return audit_log.verify_shards(Statements(conn, POSTGRES), rows, checkpoints)

    def _statements(self, doing: str, work: Callable[[Statements], _T]) -> _T:
        if self._closed:
            raise StorageError("the audit store is closed", code=STORAGE_CLOSED)
        with transaction(self._pool, doing, seconds=_BULK_SECONDS) as conn:
            return work(Statements(conn, POSTGRES))

    @contextmanager
    def _writing(self, doing: str) -> Iterator[Statements]:
        if self._closed:
            raise StorageError("the audit store is closed", code=STORAGE_CLOSED)
        with transaction(self._pool, doing, seconds=_BULK_SECONDS) as conn:
            yield Statements(conn, POSTGRES)

    def iter_rows(self) -> Iterator[StoredRow]:
        with self._all_rows("reading audit records") as (_, rows):
            for row in rows:
                yield StoredRow(*row)

    @contextmanager
    def _all_rows(
        self, doing: str, *, snapshot: bool = False
    ) -> Iterator[tuple[psycopg.Connection[Any], Iterator[Any]]]:
        """Every row in ``seq`` order from a server-side cursor, bounded by silence
        (``Progress``), not in all: a frozen server fails the read with ``storage_timeout``
        after ``stall_seconds``; a big chain streams on."""
        progress = Progress(self.stall_seconds)
        try:
            with self._pool.connection() as conn, bounded(conn, progress=progress):
                conn.autocommit = False
                try:
                    if snapshot:
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    with conn.cursor(name="proctor_rows") as cursor:
                        cursor.itersize = _ROWS_PER_FETCH
                        cursor.execute(f"SELECT {_ROW_COLUMNS} FROM audit ORDER BY seq")
                        yield conn, progress.through(cursor)
                finally:
                    conn.rollback()
                    conn.autocommit = True
        except (psycopg.Error, PoolTimeout) as exc:
            raise storage_error(exc, f"{doing} from `{self.database}`") from exc


def default_spill_path(url: str) -> str:
    """``proctor-pg-<digest>.spill.jsonl`` in the working directory, one per database, so a
    spill is never replayed into another database than the one it was meant for."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        info = {"url": url}
    where = "|".join(str(info.get(key, "")) for key in ("host", "port", "dbname", "url"))
    return f"proctor-pg-{hashlib.sha256(where.encode()).hexdigest()[:12]}.spill.jsonl"


def _note(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text + "\n")


class _DuplicateId(Exception):
    """A decision id in the batch is stored already: rebuild the batch without it."""
