"""Policy versions and process heartbeats in the SQLite file the audit trail lives in.

The shared queries of ``proctor.storage.sql.policy_sets`` on a connection of
their own (``StateDatabase``: one ``BEGIN IMMEDIATE`` transaction per change),
so every process on the file sees one active version. SQLite has no
notifications: followers poll the change counters.
"""

from __future__ import annotations

from proctor.storage.sql.policy_sets import POLICY_TABLES, SqlPolicyStore
from proctor.storage.sqlite.state_db import StateDatabase


class SqlitePolicyStore(SqlPolicyStore):
    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        database = StateDatabase(path, busy_timeout=busy_timeout)
        try:
            with database.transaction("creating the policy tables") as sql:
                for statement in POLICY_TABLES:
                    sql.run(statement)
        except BaseException:
            database.close()
            raise
        super().__init__(database)
