"""The identity store in the SQLite file the audit trail lives in.

Its tables sit next to the audit tables (created on first use, after the
audit schema's own migrations ran, so the file stays recognizably
proctor's). Writes are rare (an agent created, a token revoked) and go
straight through one connection under a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from proctor.identity.credentials import ApiKeyRecord
from proctor.storage.identity_store import (
    AGENT_COLUMNS,
    CREDENTIAL_COLUMNS,
    StoredAgent,
    StoredCredential,
    agent_from_row,
    credential_from_row,
)
from proctor.storage.sqlite.connection import check_location, connect, storage_error
from proctor.storage.sqlite.schema import migrate

IDENTITY_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS identity_agents (
        id TEXT PRIMARY KEY,
        role TEXT,
        tier TEXT NOT NULL,
        owner TEXT,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_credentials (
        agent_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        key_id TEXT NOT NULL,
        digest TEXT,
        public_jwk TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        PRIMARY KEY (kind, key_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_revoked_tokens (
        jti TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        reason TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_used_assertions (
        issuer TEXT NOT NULL,
        jti TEXT NOT NULL,
        keep_until INTEGER NOT NULL,
        PRIMARY KEY (issuer, jti)
    )
    """,
    "CREATE INDEX IF NOT EXISTS identity_used_assertions_keep "
    "ON identity_used_assertions (keep_until)",
)


class SqliteIdentityStore:
    """``IdentityStore`` over ``path`` (the audit database file)."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        check_location(path)
        self._path = path
        self._lock = threading.Lock()
        self._conn = connect(path, busy_timeout=busy_timeout)
        migrate(self._conn, path)
        try:
            for statement in IDENTITY_TABLES:
                self._conn.execute(statement)
        except sqlite3.Error as exc:
            raise storage_error(exc, path, "creating the identity tables") from exc

    def _run(self, doing: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise storage_error(exc, self._path, doing) from exc

    def put_agent(self, agent: StoredAgent) -> None:
        self._run(
            "saving an agent",
            "INSERT OR REPLACE INTO identity_agents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                agent.id,
                agent.role,
                agent.tier,
                agent.owner,
                json.dumps(list(agent.tags)),
                agent.created_at,
                agent.revoked_at,
            ),
        )

    def get_agent(self, agent_id: str) -> StoredAgent | None:
        rows = self._run(
            "reading an agent",
            f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE id = ?",
            (agent_id,),
        )
        return agent_from_row(rows[0]) if rows else None

    def list_agents(self) -> list[StoredAgent]:
        rows = self._run(
            "listing agents", f"SELECT {AGENT_COLUMNS} FROM identity_agents ORDER BY id"
        )
        return [agent_from_row(row) for row in rows]

    def add_credential(self, credential: StoredCredential) -> None:
        self._run(
            "saving a credential",
            f"INSERT INTO identity_credentials ({CREDENTIAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                credential.agent_id,
                credential.kind,
                credential.key_id,
                credential.digest,
                None if credential.public_jwk is None else json.dumps(credential.public_jwk),
                credential.created_at,
                credential.revoked_at,
            ),
        )

    def revoke_credentials(self, agent_id: str, now: int, kind: str | None = None) -> int:
        live = self.credentials(agent_id)
        self._run(
            "revoking credentials",
            "UPDATE identity_credentials SET revoked_at = ? "
            "WHERE agent_id = ? AND revoked_at IS NULL AND (? IS NULL OR kind = ?)",
            (now, agent_id, kind, kind),
        )
        return sum(1 for item in live if kind is None or item.kind == kind)

    def credentials(self, agent_id: str) -> list[StoredCredential]:
        rows = self._run(
            "reading credentials",
            f"SELECT {CREDENTIAL_COLUMNS} FROM identity_credentials "
            "WHERE agent_id = ? AND revoked_at IS NULL ORDER BY created_at",
            (agent_id,),
        )
        return [credential_from_row(row) for row in rows]

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = self._run(
            "reading an API key",
            "SELECT key_id, agent_id, digest FROM identity_credentials "
            "WHERE kind = 'api_key' AND key_id = ? AND revoked_at IS NULL",
            (key_id,),
        )
        return ApiKeyRecord(*rows[0]) if rows else None

    def revoke_token(self, jti: str, expires_at: int, reason: str) -> None:
        self._run(
            "revoking a token",
            "INSERT OR REPLACE INTO identity_revoked_tokens VALUES (?, ?, ?)",
            (jti, expires_at, reason),
        )

    def revoked_tokens(self, now: int) -> list[str]:
        rows = self._run(
            "reading revoked tokens",
            "SELECT jti FROM identity_revoked_tokens WHERE expires_at >= ?",
            (now,),
        )
        return [row[0] for row in rows]

    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        # one statement decides: another process inserting the same row makes ours ignored
        with self._lock:
            try:
                self._conn.execute(
                    "DELETE FROM identity_used_assertions WHERE keep_until < ?", (now,)
                )
                cursor = self._conn.execute(
                    "INSERT OR IGNORE INTO identity_used_assertions VALUES (?, ?, ?)",
                    (issuer, jti, keep_until),
                )
            except sqlite3.Error as exc:
                raise storage_error(exc, self._path, "recording a client assertion") from exc
            return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._conn.close()
