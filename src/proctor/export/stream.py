"""Streaming the audit to a sink, at least once, resuming from a cursor after a restart.

Each round reads up to ``batch`` records past the cursor (the ``seq`` of the
last record the sink acknowledged), hands them to the sink, and only then
moves the cursor and writes it to disk (write, fsync, rename). A failed
delivery is retried, with growing pauses, until it is acknowledged. So no
record is skipped; a record may arrive twice when the process stops between
the sink's acknowledgement and the cursor write. Receivers deduplicate by
``decision_id`` (or ``seq``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson

from proctor.export.errors import EXPORT_INVALID_CURSOR, EXPORT_SINK_FAILED, ExportError
from proctor.export.ocsf import to_ocsf
from proctor.export.records import DEFAULT_BATCH, read_batch, record_of
from proctor.export.sinks import Sink
from proctor.storage.contracts import AuditStore

Format = Literal["jsonl", "ocsf"]
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


class Cursor:
    """The last acknowledged ``seq``, kept in a small JSON file (or only in memory)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.seq = self._read()

    def _read(self) -> int:
        if self.path is None or not self.path.exists():
            return 0
        try:
            seq = orjson.loads(self.path.read_bytes())["seq"]
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ExportError(
                f"the cursor file `{self.path}` is unreadable ({exc}); "
                'fix it (`{"seq": N}`) or remove it to start from the first record',
                code=EXPORT_INVALID_CURSOR,
            ) from exc
        if not isinstance(seq, int) or seq < 0:
            raise ExportError(
                f"the cursor file `{self.path}` holds no seq number", code=EXPORT_INVALID_CURSOR
            )
        return seq

    def advance(self, seq: int) -> None:
        """Durably: a crash leaves the old cursor or the new one, never a torn file."""
        self.seq = seq
        if self.path is None:
            return
        partial = self.path.with_name(self.path.name + ".tmp")
        with partial.open("wb") as handle:
            handle.write(orjson.dumps({"seq": seq}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)
        with contextlib.suppress(OSError):  # the rename itself, where the platform allows
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)


def encode(records: list[dict[str, object]], form: Format, product_version: str) -> list[bytes]:
    if form == "ocsf":
        return [
            orjson.dumps(to_ocsf(record, product_version=product_version)) for record in records
        ]
    return [orjson.dumps(record) for record in records]


@dataclass
class StreamStats:
    delivered: int = 0
    batches: int = 0
    retries: int = 0


class AuditStream:
    """Moves records from ``store`` to ``sink`` past ``cursor``, batch by batch."""

    def __init__(
        self,
        store: AuditStore,
        sink: Sink,
        cursor: Cursor,
        *,
        form: Format = "jsonl",
        batch: int = DEFAULT_BATCH,
        backoff: tuple[float, ...] | None = None,
        max_attempts: int | None = None,
        wait: Callable[[float], bool] | None = None,
        product_version: str = "0",
    ) -> None:
        self.store = store
        self.sink = sink
        self.cursor = cursor
        self.form = form
        self.batch = batch
        self.backoff = backoff or BACKOFF
        self.max_attempts = max_attempts
        self.stopping = threading.Event()
        # wait(seconds) -> True when asked to stop meanwhile; injectable so tests never sleep
        self._wait = wait or self.stopping.wait
        self.product_version = product_version
        self.stats = StreamStats()

    def step(self) -> int:
        """Deliver one batch past the cursor (retrying until acknowledged); its size."""
        rows = read_batch(self.store, after=self.cursor.seq, limit=self.batch)
        if not rows:
            return 0
        lines = encode([record_of(row) for row in rows], self.form, self.product_version)
        first, last = rows[0].seq, rows[-1].seq
        attempt = 0
        while True:
            try:
                self.sink.deliver(lines, first, last)
                break
            except ExportError:
                attempt += 1
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    raise
            self.stats.retries += 1
            if self._wait(self.backoff[min(attempt - 1, len(self.backoff) - 1)]):
                raise ExportError(
                    f"stopped before records {first}..{last} were acknowledged",
                    code=EXPORT_SINK_FAILED,
                )
        self.cursor.advance(last)  # only after the acknowledgement: at least once
        self.stats.delivered += len(rows)
        self.stats.batches += 1
        return len(rows)

    def drain(self) -> int:
        """Deliver everything recorded so far; the number of records."""
        total = 0
        while not self.stopping.is_set():
            count = self.step()
            total += count
            if count < self.batch:
                break
        return total

    def follow(self, interval: float = 1.0) -> None:
        """Keep delivering new records until ``stop``; polls every ``interval`` seconds."""
        while not self.stopping.is_set():
            self.drain()
            if self._wait(interval):
                return

    def stop(self) -> None:
        self.stopping.set()
