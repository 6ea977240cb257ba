"""Counters, runs and approvals in PostgreSQL, atomic across replicas.

The shared stores of ``proctor.storage.sql`` on one pool: a charge locks its
counter rows and checks and increments them in one transaction; approvals
lock the row they decide or use. Same semantics as the SQLite stores, same
contract tests.
"""

from __future__ import annotations

from proctor.storage.contracts import StateStores
from proctor.storage.postgres.connection import PostgresDatabase
from proctor.storage.sql.approvals import SqlApprovalStore
from proctor.storage.sql.counters import SqlCounterStore
from proctor.storage.sql.runs import SqlRunStore


def open_postgres_state(url: str) -> StateStores:
    database = PostgresDatabase.open(url, users=3)  # closed when the last store closes
    return StateStores(SqlCounterStore(database), SqlRunStore(database), SqlApprovalStore(database))
