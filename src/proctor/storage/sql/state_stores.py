"""The counter, run and approval stores over one backend's ``SqlDatabase``, opened together."""

from __future__ import annotations

from proctor.storage.contracts import StateStores
from proctor.storage.sql.approvals import SqlApprovalStore
from proctor.storage.sql.counters import SqlCounterStore
from proctor.storage.sql.dialect import SqlDatabase
from proctor.storage.sql.runs import SqlRunStore


def sql_state_stores(database: SqlDatabase) -> StateStores:
    """The three stores on one ``database``.

    Each closes the database when it is closed; one that counts its users (PostgreSQL's
    pool) closes at the last.
    """
    return StateStores(SqlCounterStore(database), SqlRunStore(database), SqlApprovalStore(database))
