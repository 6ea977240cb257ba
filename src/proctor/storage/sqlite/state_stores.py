"""The SQLite counter, run and approval stores over one state database."""

from __future__ import annotations

from proctor.storage.contracts import StateStores
from proctor.storage.sql.approvals import SqlApprovalStore
from proctor.storage.sql.counters import SqlCounterStore
from proctor.storage.sql.runs import SqlRunStore
from proctor.storage.sqlite.state_db import StateDatabase


def open_sqlite_state(path: str, *, busy_timeout: float = 5.0) -> StateStores:
    database = StateDatabase(path, busy_timeout=busy_timeout)
    return StateStores(SqlCounterStore(database), SqlRunStore(database), SqlApprovalStore(database))
