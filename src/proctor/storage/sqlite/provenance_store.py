"""Provenance in the SQLite state file: what each run has seen, shared by its processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from proctor.scanners.provenance import Source, values_in
from proctor.storage.provenance_rows import (
    RETENTION_SECONDS,
    PruneSchedule,
    chunks,
    rows_for,
    taint_from_rows,
)
from proctor.storage.sqlite.state_db import StateDatabase


class SqliteProvenanceStore:
    """The ``ProvenanceStore`` on the state database (``provenance_values``)."""

    def __init__(
        self,
        database: StateDatabase,
        *,
        retention_seconds: float = RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._prune = PruneSchedule(retention_seconds, clock)

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
        with self._db.reading("reading a run's provenance") as conn:
            for part in chunks(values):
                marks = ", ".join("?" * len(part))
                rows += conn.execute(
                    "SELECT kind, value, trusted, tool, call, at FROM provenance_values "
                    f"WHERE run_id = ? AND value IN ({marks})",
                    (run_id, *part),
                ).fetchall()
        return taint_from_rows(found, rows)

    def discard(self, run_id: str) -> None:
        with self._db.transaction("forgetting a run's provenance") as conn:
            conn.execute("DELETE FROM provenance_values WHERE run_id = ?", (run_id,))

    def close(self) -> None:
        self._db.close()

    def _insert(self, run_id: str, content: Any, source: Source | None) -> None:
        now = self._prune.clock()
        rows = rows_for(run_id, content, source, now)
        if not rows:
            return
        with self._db.transaction("remembering a run's provenance") as conn:
            # the primary key keeps the first row of a value: its first source stays
            conn.executemany(
                "INSERT OR IGNORE INTO provenance_values "
                "(run_id, kind, value, trusted, tool, call, at, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            cutoff = self._prune.cutoff(now)
            if cutoff is not None:
                conn.execute("DELETE FROM provenance_values WHERE created < ?", (cutoff,))
