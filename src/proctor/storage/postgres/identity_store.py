"""Agents, credentials, revoked token ids and used client assertions in PostgreSQL.

The ``IdentityStore`` contract with the shared queries of
``proctor.storage.sql.identity``; every replica on the database shares them.
"""

from __future__ import annotations

from proctor.storage.postgres.connection import PostgresDatabase
from proctor.storage.sql.identity import SqlIdentityStore


class PostgresIdentityStore(SqlIdentityStore):
    def __init__(self, url: str) -> None:
        super().__init__(PostgresDatabase.open(url, max_size=4))
