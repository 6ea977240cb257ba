"""An audit store in memory: for tests and pure use. Nothing survives the process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from proctor.audit.chain import (
    GENESIS,
    ChainHead,
    StoredRow,
    VerifyReport,
    chain_record,
    stored_row,
    verify_chain,
)
from proctor.model.audit_event import AuditEvent
from proctor.storage.errors import DUPLICATE_RECORD, STORAGE_CLOSED, StorageError
from proctor.storage.records import require_decision_id


class MemoryAuditStore:
    """The ``AuditStore`` contract in a list. ``append`` chains at once, so it never waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[StoredRow] = []
        self._by_decision: dict[str, int] = {}
        self._head = GENESIS
        self._closed = False

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
        payload = event.to_payload()
        with self._lock:
            self._check_open()
            if event.decision_id in self._by_decision:
                raise StorageError(
                    f"a record with decision id `{event.decision_id}` is stored already",
                    code=DUPLICATE_RECORD,
                )
            chained = chain_record(payload, self._head.seq + 1, self._head.hash)
            self._by_decision[event.decision_id] = len(self._rows)
            self._rows.append(stored_row(chained, payload))
            self._head = chained.head

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

    def verify(self) -> VerifyReport:
        with self._lock:
            self._check_open()
            rows, head = list(self._rows), self._head
        return verify_chain(rows, head=head)

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
