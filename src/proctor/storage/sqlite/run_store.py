"""Runs in the SQLite state file."""

from __future__ import annotations

from datetime import datetime

from proctor.limits.errors import RUN_NOT_FOUND, LimitsError
from proctor.limits.runs import RunRecord
from proctor.storage.sqlite.state_db import StateDatabase
from proctor.storage.state_rows import run_from_row

_SELECT = "SELECT run_id, started_at, agent, user_sub, ended_at FROM runs WHERE run_id = ?"


class SqliteRunStore:
    def __init__(self, database: StateDatabase) -> None:
        self._db = database

    def start(self, run_id: str, at: datetime, *, agent: str, user: str | None) -> RunRecord:
        with self._db.transaction("starting a run") as conn:
            conn.execute(
                "INSERT INTO runs (run_id, started_at, agent, user_sub) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run_id) DO NOTHING",
                (run_id, at.isoformat(), agent, user),
            )
            row = conn.execute(_SELECT, (run_id,)).fetchone()
        return run_from_row(row)

    def end(self, run_id: str, at: datetime) -> RunRecord:
        with self._db.transaction("ending a run") as conn:
            conn.execute(
                "UPDATE runs SET ended_at = ? WHERE run_id = ? AND ended_at IS NULL",
                (at.isoformat(), run_id),
            )
            row = conn.execute(_SELECT, (run_id,)).fetchone()
        if row is None:
            raise LimitsError(f"no run `{run_id}`", code=RUN_NOT_FOUND)
        return run_from_row(row)

    def get(self, run_id: str) -> RunRecord | None:
        with self._db.reading("reading a run") as conn:
            row = conn.execute(_SELECT, (run_id,)).fetchone()
        return None if row is None else run_from_row(row)

    def close(self) -> None:
        self._db.close()
