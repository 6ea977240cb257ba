"""Runs over a SQL database: started once, ended once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from proctor.model.limits_errors import RUN_NOT_FOUND, LimitsError
from proctor.model.runs import RunRecord
from proctor.storage.sql.dialect import Closing

# the same on every backend (SQLite's state file, PostgreSQL's migration 2)
RUNS_TABLE = """
    CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        agent TEXT NOT NULL,
        user_sub TEXT,
        ended_at TEXT
    )
    """
_RUN = "SELECT run_id, started_at, agent, user_sub, ended_at FROM runs WHERE run_id = ?"
_START = (
    "INSERT INTO runs (run_id, started_at, agent, user_sub) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (run_id) DO NOTHING"
)
_END = "UPDATE runs SET ended_at = ? WHERE run_id = ? AND ended_at IS NULL"


class SqlRunStore(Closing):
    """``RunStore`` over a backend's ``SqlDatabase``."""

    def start(self, run_id: str, at: datetime, *, agent: str, user: str | None) -> RunRecord:
        with self._db.transaction("starting a run") as sql:
            sql.run(_START, (run_id, at.isoformat(), agent, user))
            row = sql.one(_RUN, (run_id,))
        assert row is not None
        return run_from_row(row)

    def end(self, run_id: str, at: datetime) -> RunRecord:
        with self._db.transaction("ending a run") as sql:
            sql.run(_END, (at.isoformat(), run_id))
            row = sql.one(_RUN, (run_id,))
        if row is None:
            raise LimitsError(f"no run `{run_id}`", code=RUN_NOT_FOUND)
        return run_from_row(row)

    def get(self, run_id: str) -> RunRecord | None:
        with self._db.reading("reading a run") as sql:
            row = sql.one(_RUN, (run_id,))
        return None if row is None else run_from_row(row)


def run_from_row(row: tuple[Any, ...]) -> RunRecord:
    """A ``runs`` row in the order run_id, started_at, agent, user_sub, ended_at."""
    run_id, started, agent, user, ended = row
    return RunRecord(
        run_id,
        datetime.fromisoformat(started),
        agent,
        user,
        datetime.fromisoformat(ended) if ended else None,
    )
