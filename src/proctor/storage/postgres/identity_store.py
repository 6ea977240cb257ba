"""Agents, credentials, revoked token ids and used client assertions in PostgreSQL.

The ``IdentityStore`` contract; every replica on the database shares them.
"""

from __future__ import annotations

import json
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
from proctor.storage.postgres.connection import open_pool, transaction


class PostgresIdentityStore:
    def __init__(self, url: str) -> None:
        self._pool = open_pool(url, max_size=4)

    def _run(self, doing: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with transaction(self._pool, doing) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []

    def put_agent(self, agent: StoredAgent) -> None:
        self._run(
            "saving an agent",
            f"INSERT INTO identity_agents ({AGENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET role = excluded.role, tier = excluded.tier, "
            "owner = excluded.owner, tags = excluded.tags, created_at = excluded.created_at, "
            "revoked_at = excluded.revoked_at",
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
            f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE id = %s",
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
            f"INSERT INTO identity_credentials ({CREDENTIAL_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
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
        with transaction(self._pool, "revoking credentials") as conn:
            cursor = conn.execute(
                "UPDATE identity_credentials SET revoked_at = %s "
                "WHERE agent_id = %s AND revoked_at IS NULL "
                "AND (%s::text IS NULL OR kind = %s::text)",
                (now, agent_id, kind, kind),
            )
            return cursor.rowcount

    def credentials(self, agent_id: str) -> list[StoredCredential]:
        rows = self._run(
            "reading credentials",
            f"SELECT {CREDENTIAL_COLUMNS} FROM identity_credentials "
            "WHERE agent_id = %s AND revoked_at IS NULL ORDER BY created_at",
            (agent_id,),
        )
        return [credential_from_row(row) for row in rows]

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        rows = self._run(
            "reading an API key",
            "SELECT key_id, agent_id, digest FROM identity_credentials "
            "WHERE kind = 'api_key' AND key_id = %s AND revoked_at IS NULL",
            (key_id,),
        )
        return ApiKeyRecord(*rows[0]) if rows else None

    def revoke_token(self, jti: str, expires_at: int, reason: str) -> None:
        self._run(
            "revoking a token",
            "INSERT INTO identity_revoked_tokens (jti, expires_at, reason) VALUES (%s, %s, %s) "
            "ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at, "
            "reason = excluded.reason",
            (jti, expires_at, reason),
        )

    def revoked_tokens(self, now: int) -> list[str]:
        rows = self._run(
            "reading revoked tokens",
            "SELECT jti FROM identity_revoked_tokens WHERE expires_at >= %s",
            (now,),
        )
        return [row[0] for row in rows]

    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        # expired rows go first, skipping rows another replica holds (no waits, no deadlocks)
        self._run(
            "dropping expired client assertions",
            "DELETE FROM identity_used_assertions WHERE (issuer, jti) IN ("
            "SELECT issuer, jti FROM identity_used_assertions WHERE keep_until < %s "
            "LIMIT 1000 FOR UPDATE SKIP LOCKED)",
            (now,),
        )
        # the primary key decides: of two replicas inserting the same row, one inserts
        with transaction(self._pool, "recording a client assertion") as conn:
            cursor = conn.execute(
                "INSERT INTO identity_used_assertions (issuer, jti, keep_until) "
                "VALUES (%s, %s, %s) ON CONFLICT (issuer, jti) DO NOTHING",
                (issuer, jti, keep_until),
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        self._pool.close()
