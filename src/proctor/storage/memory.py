"""An audit store in memory: for tests and pure use. Nothing survives the process.

It is one shard (shard 1) with its chain, Merkle tree and checkpoints, as a
single SQLite process keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from proctor.audit.chain import (
    GENESIS,
    ChainHead,
    StoredRow,
    VerifyReport,
    chain_event,
    event_columns,
    stored_row,
)
from proctor.audit.checkpoint import Checkpoint, ShardHead
from proctor.audit.log_verify import verify_log
from proctor.audit.merkle import Frontier, FunctionSource, TreeSource, leaf_hash
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import DUPLICATE_RECORD, STORAGE_CLOSED, StorageError
from proctor.storage.memory_state import InMemory
from proctor.storage.records import require_decision_id


class MemoryAuditStore(InMemory):
    """The ``AuditStore`` contract in a list. ``append`` chains at once, so it never waits."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[StoredRow] = []
        self._by_decision: dict[str, int] = {}
        self._head = GENESIS
        self._closed = False
        self._leaves: list[bytes] = []
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._frontier = Frontier()
        self._checkpoints: dict[int, str] = {}
        self._leader: tuple[str, float] | None = None
        self.shard = 1

    def __enter__(self) -> MemoryAuditStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MemoryAuditStore(records={len(self._rows)})"

    @property
    def healthy(self) -> bool:
        return True

    @property
    def failure(self) -> StorageError | None:
        return None

    def append(self, event: AuditEvent, *, wait: bool = False) -> None:
        require_decision_id(event)
        with self._lock:
            self._check_open()
            if event.decision_id in self._by_decision:
                raise StorageError(
                    f"a record with decision id `{event.decision_id}` is stored already",
                    code=DUPLICATE_RECORD,
                )
            chained = chain_event(event, self._head.seq + 1, self._head.hash, 1)
            self._by_decision[event.decision_id] = len(self._rows)
            self._rows.append(stored_row(chained, event_columns(event)))
            self._head = chained.head
            leaf = leaf_hash(chained.body)
            self._leaves.append(leaf)
            for level, index, node in self._frontier.append(leaf):
                self._nodes[(level, index)] = node

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def get(self, decision_id: str) -> dict[str, Any] | None:
        with self._lock:
            self._check_open()
            index = self._by_decision.get(decision_id)
            row = None if index is None else self._rows[index]
        return None if row is None else _record(row)

    def tail(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            self._check_open()
            rows = self._rows[-limit:] if limit > 0 else []
        return [_record(row) for row in rows]

    def count(self) -> int:
        with self._lock:
            self._check_open()
            return len(self._rows)

    def head(self) -> ChainHead:
        with self._lock:
            self._check_open()
            return self._head

    def verify(self, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport:
        with self._lock:
            self._check_open()
            rows, head, packed = list(self._rows), self._head, self._frontier.packed()
        return verify_log(rows, heads={1: head}, frontiers={1: packed}, checkpoints=checkpoints)

    # -- the log's tree and checkpoints (one shard) --------------------------------------------

    def shard_heads(self) -> list[ShardHead]:
        with self._lock:
            self._check_open()
            return [ShardHead(1, self._frontier.size, self._frontier.root())] if self._rows else []

    def tree_source(self, shard: int) -> TreeSource:
        def read(level: int, start: int, end: int) -> list[bytes]:
            with self._lock:
                if shard != 1:
                    return []
                if level == 0:
                    return self._leaves[start:end]
                found = (self._nodes.get((level, index)) for index in range(start, end))
                return [node for node in found if node is not None]

        return FunctionSource(read)

    def locate(self, decision_id: str) -> tuple[int, int, str] | None:
        with self._lock:
            self._check_open()
            index = self._by_decision.get(decision_id)
            if index is None:
                return None
            row = self._rows[index]
        body = row.body.decode() if isinstance(row.body, bytes) else row.body
        return 1, row.seq, body

    def checkpoint_notes(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        with self._lock:
            numbers = sorted(n for n in self._checkpoints if n > after)[:limit]
            return [(n, self._checkpoints[n]) for n in numbers]

    def latest_checkpoint(self) -> tuple[int, str] | None:
        with self._lock:
            if not self._checkpoints:
                return None
            number = max(self._checkpoints)
            return number, self._checkpoints[number]

    def lead_checkpoints(self, owner: str, now: float, lease: float) -> bool:
        with self._lock:
            if self._leader is not None and self._leader[0] != owner and self._leader[1] >= now:
                return False
            self._leader = (owner, now + lease)
            return True

    def store_checkpoint(self, number: int, time: str, size: int, note: str) -> None:
        with self._lock:
            if number in self._checkpoints:
                raise StorageError(f"checkpoint {number} is stored already", code=DUPLICATE_RECORD)
            self._checkpoints[number] = note

    def iter_rows(self) -> Iterator[StoredRow]:
        with self._lock:
            self._check_open()
            rows = list(self._rows)
        return iter(rows)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the in-memory audit store is closed", code=STORAGE_CLOSED)


def _record(row: StoredRow) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(row.body)
    record["hash"] = row.hash
    return record
