"""Provenance in PostgreSQL: what each run has seen, shared by every gateway replica."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from psycopg_pool import ConnectionPool

from proctor.storage.postgres.connection import open_pool, transaction
from proctor.storage.provenance_rows import RETENTION_SECONDS, Row, SqlProvenanceStore, chunks


class PostgresProvenanceStore(SqlProvenanceStore):
    """The ``ProvenanceStore`` on PostgreSQL (``provenance_values``), on a pool of its own."""

    def __init__(
        self,
        pool: ConnectionPool,
        *,
        retention_seconds: float = RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(retention_seconds, clock)
        self._pool = pool

    @classmethod
    def open(cls, url: str) -> PostgresProvenanceStore:
        return cls(open_pool(url, max_size=4))

    def discard(self, run_id: str) -> None:
        with transaction(self._pool, "forgetting a run's provenance") as conn:
            conn.execute("DELETE FROM provenance_values WHERE run_id = %s", (run_id,))

    def close(self) -> None:
        self._pool.close()

    def _rows_of(self, run_id: str, values: list[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        with transaction(self._pool, "reading a run's provenance") as conn:
            for part in chunks(values):
                rows += conn.execute(
                    "SELECT kind, value, trusted, tool, call, at FROM provenance_values "
                    "WHERE run_id = %s AND value = ANY(%s)",
                    (run_id, part),
                ).fetchall()
        return rows

    def _write(self, rows: list[Row], cutoff: float | None) -> None:
        with transaction(self._pool, "remembering a run's provenance") as conn:
            with conn.cursor() as cursor:
                # the primary key keeps the first row of a value: its first source stays
                cursor.executemany(
                    "INSERT INTO provenance_values "
                    "(run_id, kind, value, trusted, tool, call, at, created) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    rows,
                )
            if cutoff is not None:
                conn.execute("DELETE FROM provenance_values WHERE created < %s", (cutoff,))
