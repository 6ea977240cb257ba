"""The SQLite counter, run and approval stores over one state database."""

from __future__ import annotations

from proctor.limits.ports import StateStores
from proctor.storage.sqlite.approval_store import SqliteApprovalStore
from proctor.storage.sqlite.counter_store import SqliteCounterStore
from proctor.storage.sqlite.run_store import SqliteRunStore
from proctor.storage.sqlite.state_db import StateDatabase


def open_sqlite_state(path: str, *, busy_timeout: float = 5.0) -> StateStores:
    database = StateDatabase(path, busy_timeout=busy_timeout)
    return StateStores(
        SqliteCounterStore(database), SqliteRunStore(database), SqliteApprovalStore(database)
    )
