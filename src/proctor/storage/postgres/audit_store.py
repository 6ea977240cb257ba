"""The audit chain in PostgreSQL, shared by every replica.

One writer thread per process takes the queued events and writes them in
one transaction that first locks the head row (``SELECT ... FOR UPDATE``):
replicas take turns on that lock, so the rows of all of them form one chain
with no gap and no fork. Callers that wait share the commit of their batch
(group commit). A write that fails before COMMIT is retried once; a failed
write makes the store unhealthy: later appends raise ``StorageError`` (the
runtime's deny), as with SQLite, until a probe finds the database answering.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from proctor.audit.chain import ChainHead, StoredRow, VerifyReport, chain_record, verify_chain
from proctor.audit.chain import indexed_columns as _columns
from proctor.audit.errors import AuditError
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import STORAGE_CLOSED, StorageError
from proctor.storage.postgres.connection import open_pool, storage_error, transaction
from proctor.storage.records import PendingAppend, require_decision_id
from proctor.storage.sql.audit_reads import AuditReads
from proctor.storage.sql.dialect import POSTGRES

_ROW_COLUMNS = "seq, hash, body, decision_id, ts, kind, user_sub, agent_id, action, effect, run_id"
_INSERT = (
    "INSERT INTO audit (seq, decision_id, ts, kind, user_sub, agent_id, action, effect, run_id, "
    "hash, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_ROWS_PER_FETCH = 1000
_PROBE_SECONDS = 0.5


class PostgresAuditStore(AuditReads):
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
    ) -> None:
        self.url = url
        self.durability = durability
        self._sync = durability == "sync"
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._pool = pool or open_pool(url)
        self._pending: deque[PendingAppend] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._failure: StorageError | None = None
        self._committing = False
        self._thread = threading.Thread(target=self._run, name="proctor-pg-audit", daemon=True)
        self._thread.start()

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

    def append(self, event: AuditEvent, *, wait: bool = False) -> None:
        if self._failure is not None:
            raise StorageError(
                f"the audit store cannot take records: {self._failure.message}",
                code=self._failure.code,
            ) from self._failure
        require_decision_id(event)
        item = PendingAppend(event)
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
        while True:
            with self._wake:
                if not self._pending and not self._closed:
                    self._wake.wait(self._flush_interval)
                batch = [
                    self._pending.popleft()
                    for _ in range(min(len(self._pending), self._batch_size))
                ]
                stop = self._closed and not self._pending
            if batch:
                self._write(batch)
            elif self._failure is not None and not stop:
                self._recover()
            if stop:
                return

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
            if self._committing:  # the COMMIT itself failed: its outcome is unknown
                break
        if error is not None:  # refused until the database answers again (`_recover`)
            self._failure = error
        for item in batch:
            if item.error is None:
                item.error = error
            item.done.set()

    def _commit(self, items: list[PendingAppend]) -> None:
        with transaction(self._pool, "writing audit records") as conn:
            row = conn.execute(
                "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
            ).fetchone()
            assert row is not None
            seq, prev_hash = int(row[0]), str(row[1])
            ids = [item.event.decision_id for item in items if item.event is not None]
            seen = {
                str(found[0])
                for found in conn.execute(
                    "SELECT decision_id FROM audit WHERE decision_id = ANY(%s)", (ids,)
                ).fetchall()
            }
            rows: list[tuple[Any, ...]] = []
            for item in items:
                assert item.event is not None
                if item.event.decision_id in seen:
                    item.error = StorageError(
                        f"a record with decision id `{item.event.decision_id}` is stored already",
                        code="duplicate_record",
                    )
                    continue
                seen.add(item.event.decision_id)
                payload = item.event.to_payload()
                try:
                    chained = chain_record(payload, seq + 1, prev_hash)
                except AuditError as exc:
                    item.error = exc
                    continue
                rows.append(
                    (chained.seq, *_columns(payload), chained.hash, chained.body.decode("utf-8"))
                )
                seq, prev_hash = chained.seq, chained.hash
            if rows:
                with conn.cursor() as cursor:
                    cursor.executemany(_INSERT, rows)
                conn.execute(
                    "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev_hash)
                )
            self._committing = True  # leaving the block sends COMMIT

    def _recover(self) -> None:
        """After a failure, take records again as soon as the database answers a probe."""
        try:
            with self._pool.connection(timeout=_PROBE_SECONDS) as conn:
                conn.execute("SELECT 1")
        except Exception:  # still down (or closing): stay failed, probe again next pause
            return
        self._failure = None

    # -- reading -----------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self._closed:
            raise StorageError("the audit store is closed", code=STORAGE_CLOSED)
        with transaction(self._pool, "reading audit records") as conn:
            return conn.execute(sql, params).fetchall()

    def head(self) -> ChainHead:
        rows = self._read("SELECT seq, hash FROM audit_head WHERE id = 1")
        return ChainHead(int(rows[0][0]), str(rows[0][1]))

    def verify(self) -> VerifyReport:
        """The whole chain against the head, read in one REPEATABLE READ snapshot."""
        try:
            with self._pool.connection() as conn:
                conn.autocommit = False
                try:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    head_row = conn.execute(
                        "SELECT seq, hash FROM audit_head WHERE id = 1"
                    ).fetchone()
                    assert head_row is not None
                    head = ChainHead(int(head_row[0]), str(head_row[1]))
                    with conn.cursor(name="proctor_verify") as cursor:
                        cursor.itersize = _ROWS_PER_FETCH
                        cursor.execute(f"SELECT {_ROW_COLUMNS} FROM audit ORDER BY seq")
                        return verify_chain((StoredRow(*row) for row in cursor), head=head)
                finally:
                    conn.rollback()
                    conn.autocommit = True
        except psycopg.Error as exc:
            raise storage_error(exc, "verifying the audit chain") from exc

    def iter_rows(self) -> Iterator[StoredRow]:
        try:
            with self._pool.connection() as conn:
                conn.autocommit = False
                try:
                    with conn.cursor(name="proctor_rows") as cursor:
                        cursor.itersize = _ROWS_PER_FETCH
                        cursor.execute(f"SELECT {_ROW_COLUMNS} FROM audit ORDER BY seq")
                        for row in cursor:
                            yield StoredRow(*row)
                finally:
                    conn.rollback()
                    conn.autocommit = True
        except psycopg.Error as exc:
            raise storage_error(exc, "reading audit records") from exc
