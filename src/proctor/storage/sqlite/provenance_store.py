"""Provenance in the SQLite state file: what each run has seen, shared by its processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from proctor.storage.provenance_rows import RETENTION_SECONDS, Row, SqlProvenanceStore, chunks
from proctor.storage.sqlite.state_db import StateDatabase


class SqliteProvenanceStore(SqlProvenanceStore):
    """The ``ProvenanceStore`` on the state database (``provenance_values``)."""

    def __init__(
        self,
        database: StateDatabase,
        *,
        retention_seconds: float = RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(retention_seconds, clock)
        self._db = database

    def discard(self, run_id: str) -> None:
        with self._db.transaction("forgetting a run's provenance") as conn:
            conn.execute("DELETE FROM provenance_values WHERE run_id = ?", (run_id,))

    def close(self) -> None:
        self._db.close()

    def _rows_of(self, run_id: str, values: list[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        with self._db.reading("reading a run's provenance") as conn:
            for part in chunks(values):
                marks = ", ".join("?" * len(part))
                rows += conn.execute(
                    "SELECT kind, value, trusted, tool, call, at FROM provenance_values "
                    f"WHERE run_id = ? AND value IN ({marks})",
                    (run_id, *part),
                ).fetchall()
        return rows

    def _write(self, rows: list[Row], cutoff: float | None) -> None:
        with self._db.transaction("remembering a run's provenance") as conn:
            # the primary key keeps the first row of a value: its first source stays
            conn.executemany(
                "INSERT OR IGNORE INTO provenance_values "
                "(run_id, kind, value, trusted, tool, call, at, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if cutoff is not None:
                conn.execute("DELETE FROM provenance_values WHERE created < ?", (cutoff,))
