"""The identity store over a SQL database: agents, credentials, revoked tokens, used assertions.

Writes are rare (an agent created, a token revoked) and each is one unit of
work. Secrets never reach the tables: API keys are kept as digests, public
keys as JSON text, tags as a JSON list.
"""

from __future__ import annotations

import json
from typing import Any

from proctor.identity.credentials import ApiKeyRecord
from proctor.storage.contracts import StoredAgent, StoredCredential
from proctor.storage.sql.dialect import Closing
from proctor.storage.sql.policy_sets import IDENTITY_TOPIC, bump

AGENT_COLUMNS = "id, role, tier, owner, tags, created_at, revoked_at"
CREDENTIAL_COLUMNS = "agent_id, kind, key_id, digest, public_jwk, created_at, revoked_at"
_SEVEN = "(?, ?, ?, ?, ?, ?, ?)"

_PUT_AGENT = (
    f"INSERT INTO identity_agents ({AGENT_COLUMNS}) VALUES {_SEVEN} "
    "ON CONFLICT (id) DO UPDATE SET role = excluded.role, tier = excluded.tier, "
    "owner = excluded.owner, tags = excluded.tags, created_at = excluded.created_at, "
    "revoked_at = excluded.revoked_at"
)
_ADD_CREDENTIAL = f"INSERT INTO identity_credentials ({CREDENTIAL_COLUMNS}) VALUES {_SEVEN}"
_REVOKE_CREDENTIALS = (
    "UPDATE identity_credentials SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL"
)
_LIVE_CREDENTIALS = (
    f"SELECT {CREDENTIAL_COLUMNS} FROM identity_credentials "
    "WHERE agent_id = ? AND revoked_at IS NULL ORDER BY created_at"
)
_API_KEY = (
    "SELECT key_id, agent_id, digest FROM identity_credentials "
    "WHERE kind = 'api_key' AND key_id = ? AND revoked_at IS NULL"
)
_REVOKE_TOKEN = (
    "INSERT INTO identity_revoked_tokens (jti, expires_at, reason) VALUES (?, ?, ?) "
    "ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at, reason = excluded.reason"
)
_USE_ASSERTION = (
    "INSERT INTO identity_used_assertions (issuer, jti, keep_until) VALUES (?, ?, ?) "
    "ON CONFLICT (issuer, jti) DO NOTHING"
)


def agent_from_row(row: tuple[Any, ...]) -> StoredAgent:
    return StoredAgent(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5], row[6])


def credential_from_row(row: tuple[Any, ...]) -> StoredCredential:
    public_jwk = None if row[4] is None else json.loads(row[4])
    return StoredCredential(row[0], row[1], row[2], row[3], public_jwk, row[5], row[6])


class SqlIdentityStore(Closing):
    """``IdentityStore`` over a backend's ``SqlDatabase``."""

    def put_agent(self, agent: StoredAgent) -> None:
        tags = json.dumps(list(agent.tags))
        with self._db.transaction("saving an agent") as sql:
            sql.run(
                _PUT_AGENT,
                (
                    agent.id,
                    agent.role,
                    agent.tier,
                    agent.owner,
                    tags,
                    agent.created_at,
                    agent.revoked_at,
                ),
            )
            bump(sql, IDENTITY_TOPIC)  # other processes refresh their registry

    def get_agent(self, agent_id: str) -> StoredAgent | None:
        with self._db.reading("reading an agent") as sql:
            row = sql.one(f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE id = ?", (agent_id,))
        return agent_from_row(row) if row is not None else None

    def list_agents(self) -> list[StoredAgent]:
        with self._db.reading("listing agents") as sql:
            rows = sql.all(f"SELECT {AGENT_COLUMNS} FROM identity_agents ORDER BY id")
        return [agent_from_row(row) for row in rows]

    def add_credential(self, credential: StoredCredential) -> None:
        jwk = None if credential.public_jwk is None else json.dumps(credential.public_jwk)
        with self._db.transaction("saving a credential") as sql:
            sql.run(
                _ADD_CREDENTIAL,
                (
                    credential.agent_id,
                    credential.kind,
                    credential.key_id,
                    credential.digest,
                    jwk,
                    credential.created_at,
                    credential.revoked_at,
                ),
            )
            bump(sql, IDENTITY_TOPIC)

    def revoke_credentials(self, agent_id: str, now: int, kind: str | None = None) -> int:
        with self._db.transaction("revoking credentials") as sql:
            if kind is None:
                revoked = sql.run(_REVOKE_CREDENTIALS, (now, agent_id))
            else:
                revoked = sql.run(f"{_REVOKE_CREDENTIALS} AND kind = ?", (now, agent_id, kind))
            bump(sql, IDENTITY_TOPIC)
            return revoked

    def credentials(self, agent_id: str) -> list[StoredCredential]:
        with self._db.reading("reading credentials") as sql:
            rows = sql.all(_LIVE_CREDENTIALS, (agent_id,))
        return [credential_from_row(row) for row in rows]

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._db.reading("reading an API key") as sql:
            row = sql.one(_API_KEY, (key_id,))
        return ApiKeyRecord(*row) if row is not None else None

    def revoke_token(self, jti: str, expires_at: int, reason: str) -> None:
        with self._db.transaction("revoking a token") as sql:
            sql.run(_REVOKE_TOKEN, (jti, expires_at, reason))
            bump(sql, IDENTITY_TOPIC)

    def revoked_tokens(self, now: int) -> list[str]:
        with self._db.reading("reading revoked tokens") as sql:
            rows = sql.all("SELECT jti FROM identity_revoked_tokens WHERE expires_at >= ?", (now,))
        return [row[0] for row in rows]

    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        with self._db.transaction("dropping expired client assertions") as sql:
            sql.run(
                sql.dialect.delete_some(
                    "identity_used_assertions", "issuer, jti", "keep_until < ?"
                ),
                (now,),
            )
        # the primary key decides: of two processes inserting the same row, one inserts
        with self._db.transaction("recording a client assertion") as sql:
            return sql.run(_USE_ASSERTION, (issuer, jti, keep_until)) == 1
