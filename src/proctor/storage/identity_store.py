"""The identity store contract: registered agents, their credentials, revoked token ids
and the ids of client assertions already used.

Three backends pass the same contract tests: ``MemoryIdentityStore`` here,
``proctor.storage.sqlite.identity_store.SqliteIdentityStore`` and
``proctor.storage.postgres.identity_store.PostgresIdentityStore``. Secrets never
reach a store: API keys are kept as digests, private keys stay with agents.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from proctor.identity.credentials import ApiKeyRecord


@dataclass(frozen=True, slots=True)
class StoredAgent:
    """An agent created through the CLI or API (agents in the config file are not stored)."""

    id: str
    role: str | None
    tier: str
    owner: str | None = None
    tags: tuple[str, ...] = ()
    created_at: int = 0
    revoked_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "tier": self.tier,
            "owner": self.owner,
            "tags": list(self.tags),
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """An API key digest or a public JWK of one agent."""

    agent_id: str
    kind: str  # "api_key" or "public_key"
    key_id: str
    digest: str | None = None
    public_jwk: dict[str, Any] | None = None
    created_at: int = 0
    revoked_at: int | None = None


# Column order of the SQL backends' rows, and the rows turned back into values
# (tags and public keys are stored as JSON text).
AGENT_COLUMNS = "id, role, tier, owner, tags, created_at, revoked_at"
CREDENTIAL_COLUMNS = "agent_id, kind, key_id, digest, public_jwk, created_at, revoked_at"


def agent_from_row(row: tuple[Any, ...]) -> StoredAgent:
    return StoredAgent(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5], row[6])


def credential_from_row(row: tuple[Any, ...]) -> StoredCredential:
    public_jwk = None if row[4] is None else json.loads(row[4])
    return StoredCredential(row[0], row[1], row[2], row[3], public_jwk, row[5], row[6])


@runtime_checkable
class IdentityStore(Protocol):
    def put_agent(self, agent: StoredAgent) -> None:
        """Insert or replace the agent with ``agent.id``."""
        ...

    def get_agent(self, agent_id: str) -> StoredAgent | None: ...

    def list_agents(self) -> list[StoredAgent]: ...

    def add_credential(self, credential: StoredCredential) -> None: ...

    def revoke_credentials(self, agent_id: str, now: int, kind: str | None = None) -> int:
        """Revoke the agent's live credentials (of ``kind``); returns how many."""
        ...

    def credentials(self, agent_id: str) -> list[StoredCredential]:
        """The agent's live (unrevoked) credentials."""
        ...

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The live API key record with ``key_id``, if any."""
        ...

    def revoke_token(self, jti: str, expires_at: int, reason: str) -> None: ...

    def revoked_tokens(self, now: int) -> list[str]:
        """``jti`` values revoked and not yet expired at ``now``."""
        ...

    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        """Record client assertion ``jti`` of ``issuer`` as used; False if it was already.

        Atomic across every process sharing the store: of two concurrent uses,
        exactly one gets True. Records kept past ``now`` are dropped on the way.
        """
        ...

    def close(self) -> None: ...


class MemoryIdentityStore:
    """The contract in dictionaries (tests, and in-memory runtimes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agents: dict[str, StoredAgent] = {}
        self._credentials: list[StoredCredential] = []
        self._revoked: dict[str, tuple[int, str]] = {}
        self._used: dict[tuple[str, str], int] = {}

    def put_agent(self, agent: StoredAgent) -> None:
        with self._lock:
            self._agents[agent.id] = agent

    def get_agent(self, agent_id: str) -> StoredAgent | None:
        return self._agents.get(agent_id)

    def list_agents(self) -> list[StoredAgent]:
        return sorted(self._agents.values(), key=lambda agent: agent.id)

    def add_credential(self, credential: StoredCredential) -> None:
        with self._lock:
            self._credentials.append(credential)

    def revoke_credentials(self, agent_id: str, now: int, kind: str | None = None) -> int:
        count = 0
        with self._lock:
            for index, item in enumerate(self._credentials):
                live = item.agent_id == agent_id and item.revoked_at is None
                if live and (kind is None or item.kind == kind):
                    self._credentials[index] = replace(item, revoked_at=now)
                    count += 1
        return count

    def credentials(self, agent_id: str) -> list[StoredCredential]:
        return [c for c in self._credentials if c.agent_id == agent_id and c.revoked_at is None]

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        for item in self._credentials:
            if item.kind == "api_key" and item.key_id == key_id and item.revoked_at is None:
                return ApiKeyRecord(item.key_id, item.agent_id, item.digest or "")
        return None

    def revoke_token(self, jti: str, expires_at: int, reason: str) -> None:
        with self._lock:
            self._revoked[jti] = (expires_at, reason)

    def revoked_tokens(self, now: int) -> list[str]:
        return [jti for jti, (expires_at, _) in self._revoked.items() if expires_at >= now]

    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        with self._lock:
            for key in [key for key, until in self._used.items() if until < now]:
                del self._used[key]
            if (issuer, jti) in self._used:
                return False
            self._used[issuer, jti] = keep_until
            return True

    def close(self) -> None:
        return None
