"""Policy versions and heartbeats in PostgreSQL, and the ``LISTEN`` side of their changes.

The shared queries of ``proctor.storage.sql.policy_sets`` on a small pool.
``ChangeListener`` holds one connection of its own in ``LISTEN proctor_store``:
a follower waits on it instead of sleeping, so a change made on one replica
reaches the others as soon as it commits; the follower polls the counters
after every wait anyway, so a lost notification or a dropped connection only
delays a change to the next poll.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg

from proctor.storage.postgres.connection import PostgresDatabase, storage_error
from proctor.storage.sql.policy_sets import NOTIFY_CHANNEL, SqlPolicyStore


class PostgresPolicyStore(SqlPolicyStore):
    def __init__(self, url: str) -> None:
        super().__init__(PostgresDatabase.open(url, max_size=2))


class ChangeListener:
    """``wait(seconds)``: True when a change was announced within that time."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, seconds: float) -> bool:
        """Block up to ``seconds``; a broken connection raises ``StorageError`` (reopened
        on the next call)."""
        try:
            conn = self._connection()
            heard = False
            for _ in conn.notifies(timeout=seconds, stop_after=1):
                heard = True
            return heard
        except psycopg.Error as exc:
            self.close()
            raise storage_error(exc, "listening for changes") from exc

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):  # already gone
                conn.close()
