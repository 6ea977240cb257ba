"""Provenance in PostgreSQL: what each run has seen, shared by every gateway replica."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from psycopg_pool import ConnectionPool

from proctor.scanners.provenance import Source, values_in
from proctor.storage.postgres.connection import open_pool, transaction
from proctor.storage.provenance_rows import (
    RETENTION_SECONDS,
    PruneSchedule,
    chunks,
    rows_for,
    taint_from_rows,
)


class PostgresProvenanceStore:
    """The ``ProvenanceStore`` on PostgreSQL (``provenance_values``), on a pool of its own."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        retention_seconds: float = RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._prune = PruneSchedule(retention_seconds, clock)

    @classmethod
    def open(cls, url: str) -> PostgresProvenanceStore:
        return cls(open_pool(url, max_size=4))

    def remember_trusted(self, run_id: str, content: Any) -> None:
        self._insert(run_id, content, None)

    def remember_untrusted(self, run_id: str, content: Any, source: Source) -> None:
        self._insert(run_id, content, source)

    def taint_of(self, run_id: str, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        found = values_in(args)
        if not found:
            return {}
        values = sorted({v.value for vs in found.values() for v in vs})
        rows: list[tuple[Any, ...]] = []
        with transaction(self._pool, "reading a run's provenance") as conn:
            for part in chunks(values):
                rows += conn.execute(
                    "SELECT kind, value, trusted, tool, call, at FROM provenance_values "
                    "WHERE run_id = %s AND value = ANY(%s)",
                    (run_id, part),
                ).fetchall()
        return taint_from_rows(found, rows)

    def discard(self, run_id: str) -> None:
        with transaction(self._pool, "forgetting a run's provenance") as conn:
            conn.execute("DELETE FROM provenance_values WHERE run_id = %s", (run_id,))

    def close(self) -> None:
        self._pool.close()

    def _insert(self, run_id: str, content: Any, source: Source | None) -> None:
        now = self._prune.clock()
        rows = rows_for(run_id, content, source, now)
        if not rows:
            return
        with transaction(self._pool, "remembering a run's provenance") as conn:
            with conn.cursor() as cursor:
                # the primary key keeps the first row of a value: its first source stays
                cursor.executemany(
                    "INSERT INTO provenance_values "
                    "(run_id, kind, value, trusted, tool, call, at, created) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    rows,
                )
            cutoff = self._prune.cutoff(now)
            if cutoff is not None:
                conn.execute("DELETE FROM provenance_values WHERE created < %s", (cutoff,))
