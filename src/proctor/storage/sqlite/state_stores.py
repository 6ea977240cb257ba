"""The SQLite counter, run and approval stores over one state database."""

from __future__ import annotations

from proctor.storage.contracts import StateStores
from proctor.storage.sql.state_stores import sql_state_stores
from proctor.storage.sqlite.state_db import StateDatabase


def open_sqlite_state(path: str, *, busy_timeout: float = 5.0) -> StateStores:
    return sql_state_stores(StateDatabase(path, busy_timeout=busy_timeout))
