"""Counters, runs and approvals in PostgreSQL, atomic across replicas.

The shared stores of ``proctor.storage.sql`` on one pool: a charge locks its
counter rows and checks and increments them in one transaction; approvals
lock the row they decide or use. Same semantics as the SQLite stores, same
contract tests.
"""

from __future__ import annotations

from proctor.storage.contracts import StateStores
from proctor.storage.postgres.connection import PostgresDatabase
from proctor.storage.sql.state_stores import sql_state_stores


def open_postgres_state(url: str) -> StateStores:
    # three users: the pool is closed when the last store closes
    return sql_state_stores(PostgresDatabase.open(url, users=3))
