"""The identity store contract in dictionaries (tests, and in-memory runtimes).

The SQL backends are ``proctor.storage.sqlite.identity_store`` and
``proctor.storage.postgres.identity_store``; all three pass the same contract tests.
"""

from __future__ import annotations

from dataclasses import replace

from proctor.identity.credentials import ApiKeyRecord
from proctor.storage.contracts import StoredAgent, StoredCredential
from proctor.storage.memory_state import InMemory


class MemoryIdentityStore(InMemory):
    """The contract in dictionaries (tests, and in-memory runtimes)."""

    def __init__(self) -> None:
        super().__init__()
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
