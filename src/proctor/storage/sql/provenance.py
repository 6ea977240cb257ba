"""Provenance over a SQL database: what each run has seen, shared by its processes.

One row per (run, trust, kind, value): trusted values (the user's task) and
untrusted values (tool outputs, with the source that first produced them).
An output that held an injection finding is a row of kind ``run.injection``
(no candidate value has that kind) whose value is the call id and the score
as JSON; each value that injection named is a row of kind ``injected.<kind>``
with the output's source, read with the value's other rows.
Rows are only inserted, never updated, so the first source of a value stays;
rows older than the retention are deleted now and then by whoever inserts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from proctor.scanners.provenance import (
    MAX_INJECTIONS,
    CandidateValue,
    Source,
    all_values,
    injection_entry,
    taint_from,
    values_in,
)
from proctor.storage.sql.dialect import Closing, SqlDatabase

RETENTION_SECONDS = 7 * 24 * 3600  # a run's provenance is kept a week
PRUNE_EVERY_SECONDS = 3600.0  # how often one process deletes expired rows
LOOKUP_CHUNK = 500  # values per query (SQLite allows 32,766 parameters)

Row = tuple[str, str, str, int, str | None, str | None, str | None, float]
_SELECT = "SELECT kind, value, trusted, tool, call, at FROM provenance_values WHERE run_id = ? AND "
# the primary key keeps the first row of a value: its first source stays
_INSERT = (
    "INSERT INTO provenance_values (run_id, kind, value, trusted, tool, call, at, created) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def rows_for(run_id: str, content: Any, source: Source | None, created: float) -> list[Row]:
    """The rows for the candidate values in ``content``: trusted when ``source`` is None."""
    trusted = 1 if source is None else 0
    tool, call, at = (None, None, None) if source is None else (source.tool, source.call, source.at)
    return [
        (run_id, value.kind, value.value, trusted, tool, call, at, created)
        for value in sorted(all_values(content), key=lambda v: (v.kind, v.value))
    ]


def taint_from_rows(
    found: Mapping[str, Collection[CandidateValue]],
    rows: Iterable[tuple[Any, ...]],
    scores: Mapping[str, float] | None = None,
) -> dict[str, dict[str, Any]]:
    """Taint from the stored rows ``(kind, value, trusted, tool, call, at)`` of the values;
    ``scores``: call id -> score of the run's injection findings (for ``injected.*`` rows)."""
    trusted: set[CandidateValue] = set()
    untrusted: dict[CandidateValue, Source] = {}
    injected: dict[tuple[str, str], tuple[Source, float]] = {}
    for kind, value, is_trusted, tool, call, at in rows:
        source = Source(str(tool), str(call), str(at))
        if str(kind).startswith(INJECTED_PREFIX):
            key = (str(kind).removeprefix(INJECTED_PREFIX), str(value))
            injected.setdefault(key, (source, (scores or {}).get(source.call, 0.0)))
            continue
        candidate = CandidateValue(str(kind), str(value))
        if is_trusted:
            trusted.add(candidate)
        else:
            untrusted[candidate] = source
    named = {CandidateValue(*key): injection_entry(*entry) for key, entry in injected.items()}
    return taint_from(found, trusted, untrusted, named)


def chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


class PruneSchedule:
    """When a process should delete expired rows: at most every ``PRUNE_EVERY_SECONDS``."""

    def __init__(self, retention_seconds: float, clock: Callable[[], float]) -> None:
        self.retention = retention_seconds
        self.clock = clock
        self._last = 0.0
        self._lock = threading.Lock()

    def cutoff(self, now: float) -> float | None:
        """Rows created before the returned time can go; None when not due yet."""
        with self._lock:
            if now - self._last < PRUNE_EVERY_SECONDS:
                return None
            self._last = now
            return now - self.retention


INJECTION_KIND = "run.injection"
INJECTED_PREFIX = "injected."  # kind of a value an injection named: ``injected.iban``...
_INJECTIONS = (
    "SELECT value, tool, at FROM provenance_values WHERE run_id = ? AND kind = ? AND trusted = 0"
    " ORDER BY created, value"
)


class SqlProvenanceStore(Closing):
    """The ``ProvenanceStore`` over a table ``provenance_values`` of a backend's ``SqlDatabase``."""

    def __init__(
        self,
        database: SqlDatabase,
        *,
        retention_seconds: float = RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(database)
        self._prune = PruneSchedule(retention_seconds, clock)

    def remember_trusted(self, run_id: str, content: Any) -> None:
        self._remember(run_id, content, None)

    def remember_untrusted(self, run_id: str, content: Any, source: Source) -> None:
        self._remember(run_id, content, source)

    def taint_of(self, run_id: str, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        found = values_in(args)
        if not found:
            return {}
        values = sorted({v.value for vs in found.values() for v in vs})
        rows: list[tuple[Any, ...]] = []
        with self._db.reading("reading a run's provenance") as sql:
            for part in chunks(values):
                among, params = sql.dialect.among("value", part)
                rows += sql.all(_SELECT + among, (run_id, *params))
            named = any(str(row[0]).startswith(INJECTED_PREFIX) for row in rows)
            scores = _scores(sql.all(_INJECTIONS, (run_id, INJECTION_KIND))) if named else {}
        return taint_from_rows(found, rows, scores)

    def remember_injection(
        self, run_id: str, source: Source, score: float, values: Iterable[CandidateValue] = ()
    ) -> None:
        value = json.dumps({"call": source.call, "score": round(float(score), 3)}, sort_keys=True)
        row = (run_id, INJECTION_KIND, value, 0, source.tool, source.call, source.at)
        named = [
            (run_id, INJECTED_PREFIX + v.kind, v.value, 0, source.tool, source.call, source.at)
            for v in sorted(values, key=lambda v: (v.kind, v.value))
        ]
        now = self._prune.clock()
        with self._db.transaction("remembering a run's injection finding") as sql:
            sql.many(_INSERT, [(*r, now) for r in (row, *named)])

    def injections(self, run_id: str) -> tuple[dict[str, Any], ...]:
        with self._db.reading("reading a run's injection findings") as sql:
            rows = sql.all(_INJECTIONS, (run_id, INJECTION_KIND))
        out: dict[str, dict[str, Any]] = {}
        for value, tool, at in rows:
            entry = json.loads(str(value))
            call = str(entry["call"])
            if call not in out and len(out) < MAX_INJECTIONS:
                out[call] = injection_entry(Source(str(tool), call, str(at)), entry["score"])
        return tuple(out.values())

    def discard(self, run_id: str) -> None:
        with self._db.transaction("forgetting a run's provenance") as sql:
            sql.run("DELETE FROM provenance_values WHERE run_id = ?", (run_id,))

    def _remember(self, run_id: str, content: Any, source: Source | None) -> None:
        now = self._prune.clock()
        rows = rows_for(run_id, content, source, now)
        if not rows:
            return
        cutoff = self._prune.cutoff(now)
        with self._db.transaction("remembering a run's provenance") as sql:
            sql.many(_INSERT, rows)
            if cutoff is not None:
                sql.run("DELETE FROM provenance_values WHERE created < ?", (cutoff,))


def _scores(rows: Iterable[tuple[Any, ...]]) -> dict[str, float]:
    """Call id -> score, from the run's ``run.injection`` rows ``(value, tool, at)``."""
    out: dict[str, float] = {}
    for value, _, _ in rows:
        entry = json.loads(str(value))
        out.setdefault(str(entry["call"]), float(entry["score"]))
    return out
