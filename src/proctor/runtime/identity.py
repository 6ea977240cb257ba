"""Identity wired for a runtime: key file, JWKS fetchers, verifiers, exchange, revocation.

The pure ``proctor.identity`` core does no I/O; here its injected pieces are
filled in: the 0600 key file, JWKS fetched from a file or over HTTPS with
httpx (plain http only for loopback hosts), the identity store for agents,
credentials, revoked token ids and used client assertion ids, the clock and
random token ids.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from jwt.api_jwk import PyJWK

from proctor.clock import Clock, system_clock
from proctor.identity import jose
from proctor.identity.credentials import ActorCredentials
from proctor.identity.delegation import Delegation, DelegationVerifier
from proctor.identity.errors import (
    JWKS_UNAVAILABLE,
    TOKEN_ACTOR_MISMATCH,
    TOKEN_UNKNOWN_ACTOR,
    IdentityError,
    TokenRejected,
)
from proctor.identity.exchange import IssuedDelegation, TokenExchanger, TokenExchangeRequest
from proctor.identity.jwks import JwksCache, JwksFetch
from proctor.identity.keys import DEV_ISSUER, DEV_KEY_ID, KeyRing, SigningKey
from proctor.identity.registry import AgentRegistry
from proctor.identity.revocation import RevocationList
from proctor.identity.settings import IdentityConfig, IssuerConfig
from proctor.identity.user_tokens import ClaimMapping, TrustedIssuer, UserTokenVerifier
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.storage import key_file
from proctor.storage.contracts import IdentityStore, StoredAgent
from proctor.storage.memory_identity import MemoryIdentityStore

_HELD_LIMIT = 8192


@dataclass(frozen=True, slots=True)
class HeldToken:
    """A verified delegation token as a check uses it (built once per token)."""

    delegation: Delegation
    user: User
    chain: tuple[dict[str, Any], ...]
    token_view: dict[str, Any]


def file_fetch(path: Path) -> JwksFetch:
    """Read a JWKS document from ``path`` on every (bounded) refresh."""

    def fetch() -> Mapping[str, Any]:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IdentityError(
                f"cannot read the JWKS file `{path}`: {exc}", code=JWKS_UNAVAILABLE
            ) from exc
        return _jwks_object(value, f"the JWKS file `{path}`")

    return fetch


def http_fetch(url: str, *, timeout: float = 5.0) -> JwksFetch:
    """GET a JWKS document with httpx (no redirects: the configured URL is the trusted one)."""

    def fetch() -> Mapping[str, Any]:
        import httpx  # only when a JWKS URL is configured: keeps `import proctor` light

        try:
            response = httpx.get(url, timeout=timeout, follow_redirects=False)
            response.raise_for_status()
            value = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityError(
                f"cannot fetch the JWKS from `{url}`: {exc}", code=JWKS_UNAVAILABLE
            ) from exc
        return _jwks_object(value, f"the JWKS at `{url}`")

    return fetch


def _jwks_object(value: Any, where: str) -> Mapping[str, Any]:
    """A fetched JWKS document, which must be a JSON object (``where`` names its source)."""
    if not isinstance(value, dict):
        raise IdentityError(f"{where} is not an object", code=JWKS_UNAVAILABLE)
    return value


class IdentityService:
    """Verifies delegation tokens on checks, runs exchanges, mints dev tokens, manages keys."""

    def __init__(
        self,
        settings: IdentityConfig,
        *,
        key_path: Path | None,
        store: IdentityStore,
        registry: AgentRegistry | None = None,
        clock: Clock = system_clock,
        base: Path | None = None,
        fetchers: Mapping[str, JwksFetch] | None = None,
        keys: KeyRing | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._key_path = key_path
        self.registry = registry or AgentRegistry()
        self._clock = clock
        self._ring = keys
        self._ring_lock = threading.Lock()
        self._key_file = (
            key_file.KeyFile(key_path, overlap=settings.key_overlap_seconds)
            if key_path is not None and keys is None
            else None
        )
        self._held: dict[str, HeldToken] = {}
        self.revocations, self.revoked_agents = _revocation_lists(store, settings, self._seconds)
        self.delegations = DelegationVerifier(
            issuer=settings.issuer,
            audience=settings.audience,
            keys=lambda now: self.keyring.verifying(now),
            revocations=self.revocations,
            leeway=settings.leeway_seconds,
            max_depth=settings.max_chain_depth,
        )
        self.users = self._user_tokens(base or Path.cwd(), fetchers or {})
        self.credentials = ActorCredentials(
            audience=settings.issuer,
            api_keys=store.api_key,
            agent_keys=self._agent_keys,
            used=store.use_assertion,
            leeway=settings.leeway_seconds,
        )
        self.exchanger = TokenExchanger(
            issuer=settings.issuer,
            audience=settings.audience,
            audiences=settings.audiences,
            signing_key=lambda: self.keyring.active,
            users=self.users,
            delegations=self.delegations,
            agents=self.agent,
            role_scopes=lambda role: self.registry.role_scopes(role),
            new_jti=lambda: secrets.token_urlsafe(16),
            authenticate_actor=self.credentials,
            ttl=settings.delegation_ttl_seconds,
        )

    def _user_tokens(self, base: Path, fetchers: Mapping[str, JwksFetch]) -> UserTokenVerifier:
        """The IdP tokens users bring: the configured issuers, and the dev issuer if allowed."""
        settings, seconds = self.settings, self._seconds
        issuers = [
            _trusted(spec, base, seconds, fetchers.get(spec.issuer)) for spec in settings.issuers
        ]
        if settings.allow_dev_tokens:
            issuers.append(
                TrustedIssuer(
                    DEV_ISSUER,
                    frozenset({settings.dev_audience}),
                    JwksCache(self._dev_jwks, seconds, max_age=float("inf"), min_refresh=0.0),
                    frozenset({"EdDSA"}),
                )
            )
        return UserTokenVerifier(
            issuers, leeway=settings.leeway_seconds, allow_dev=settings.allow_dev_tokens
        )

    def _seconds(self) -> float:
        return self._clock().timestamp()

    def now(self) -> float:
        """The time on the service's clock, in seconds."""
        return self._seconds()

    # -- keys -----------------------------------------------------------------------------

    @property
    def keyring(self) -> KeyRing:
        """The key ring: the key file's (created 0600 on first use, read again when it changed)."""
        if self._key_file is not None:
            return self._key_file.ring(int(self._seconds()))
        ring = self._ring
        if ring is None:
            with self._ring_lock:
                if self._ring is None:
                    self._ring = KeyRing.generate(
                        int(self._seconds()), overlap=self.settings.key_overlap_seconds
                    )
                ring = self._ring
        return ring

    def _change_keys(self, change: Callable[[KeyRing], KeyRing]) -> KeyRing:
        """Apply ``change`` to the current ring (the file's, under its lock: never a stale copy)."""
        if self._key_file is not None:
            return self._key_file.update(change, int(self._seconds()))
        current = self.keyring
        with self._ring_lock:
            self._ring = change(self._ring or current)
            return self._ring

    def rotate_keys(self) -> SigningKey:
        """A new active key; the previous one keeps verifying for the overlap."""
        now = int(self._seconds())
        return self._change_keys(lambda ring: ring.rotate(now)).active

    def jwks(self) -> dict[str, Any]:
        return self.keyring.jwks(self._seconds())

    def _dev_key(self) -> SigningKey:
        ring = self.keyring
        if ring.dev_key is None:
            now = int(self._seconds())
            ring = self._change_keys(lambda current: current.with_dev_key(now))
        assert ring.dev_key is not None
        return ring.dev_key

    def _dev_jwks(self) -> Mapping[str, Any]:
        return {"keys": [self._dev_key().public_jwk()]}

    def mint_dev_user_token(
        self,
        sub: str,
        scopes: tuple[str, ...],
        *,
        ttl: int = 3600,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A user token signed with the local dev key (``iss`` urn:proctor:dev, ``kid`` dev).

        For local use only: runtimes refuse it unless ``identity.allow_dev_tokens`` is set.
        """
        now = int(self._seconds())
        body = {
            **(claims or {}),
            "iss": DEV_ISSUER,
            "sub": sub,
            "aud": self.settings.dev_audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
            "scope": " ".join(scopes),
            "proctor_dev": True,
        }
        return jose.sign(body, self._dev_key().private, kid=DEV_KEY_ID)

    # -- agents ---------------------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent | None:
        """A registered, unrevoked agent: from the config, else from the store."""
        if self.revoked_agents.is_revoked(agent_id, self._seconds()):
            return None
        found = self.registry.get(agent_id)
        if found is not None:
            return found
        stored = self.store.get_agent(agent_id)
        if stored is None or stored.revoked_at is not None:
            return None
        return stored_agent(stored)

    def set_stored_tier(self, agent_id: str, tier: str) -> None:
        """A store agent's tier (a config agent is left to its file); ``StorageError`` raises."""
        stored = self.store.get_agent(agent_id)
        if stored is not None:
            self.store.put_agent(replace(stored, tier=tier))

    def with_stored_agents(self, registry: AgentRegistry) -> AgentRegistry:
        """``registry`` plus the unrevoked agents of the store (the config wins on a clash)."""
        stored = {
            agent.id: stored_agent(agent)
            for agent in self.store.list_agents()
            if agent.revoked_at is None
        }
        self.registry = AgentRegistry({**stored, **registry.agents}, registry.roles)
        return self.registry

    def _agent_keys(self, agent_id: str) -> Mapping[str, PyJWK]:
        keys: dict[str, PyJWK] = {}
        for item in self.store.credentials(agent_id):
            if item.kind == "public_key" and item.public_jwk is not None:
                keys[item.key_id] = PyJWK(item.public_jwk)
        return keys

    # -- checks ---------------------------------------------------------------------------

    def hold(self, token: str, asked_agent: Agent | str | None, now: float) -> HeldToken:
        """Verify a delegation token for a check: ``TokenRejected`` when it does not pass."""
        delegation = self.delegations.verify(token, now)
        held = self._held.get(delegation.jti)
        if held is None or held.delegation is not delegation:
            held = _held(delegation)
            if len(self._held) >= _HELD_LIMIT:
                self._held.clear()
            self._held[delegation.jti] = held
        for actor in delegation.actors:
            if self.revoked_agents.is_revoked(actor, now):
                raise TokenRejected(
                    f"agent `{actor}` in the token's chain has been revoked",
                    code=TOKEN_UNKNOWN_ACTOR,
                )
        if asked_agent is not None:
            asked = asked_agent if isinstance(asked_agent, str) else asked_agent.id
            if asked != delegation.actor:
                raise TokenRejected(
                    f"the token delegates to agent `{delegation.actor}`, not `{asked}`",
                    code=TOKEN_ACTOR_MISMATCH,
                )
        return held

    def verify(self, token: str) -> Delegation:
        """The verified delegation (for ``proctor token inspect``)."""
        return self.delegations.verify(token, self._seconds())

    def revoke(self, jti: str, expires_at: int, reason: str) -> None:
        self.revocations.revoke(jti, expires_at, reason)

    # -- exchange -------------------------------------------------------------------------

    def exchange(
        self, request: TokenExchangeRequest, *, actor: str | None, at: datetime
    ) -> IssuedDelegation:
        """Run the exchange at ``at``; raises ``ExchangeError`` (or ``StorageError``).

        ``Runtime.exchange`` records it, allowed or refused.
        """
        return self.exchanger.exchange(request, actor=actor, now=at.timestamp())


def _revocation_lists(
    store: IdentityStore, settings: IdentityConfig, seconds: Callable[[], float]
) -> tuple[RevocationList, RevocationList]:
    """Revoked token ids and revoked agents, read through from the store (every process's)."""
    # a revocation is read while its token could still pass the `exp` check (leeway)
    tokens = RevocationList(
        lambda: store.revoked_tokens(int(seconds() - settings.leeway_seconds)),
        store.revoke_token,
        refresh_every=settings.revocation_refresh_seconds,
    )
    agents = RevocationList(
        lambda: [a.id for a in store.list_agents() if a.revoked_at is not None],
        lambda agent_id, _until, _why: None,
        refresh_every=settings.revocation_refresh_seconds,
    )
    return tokens, agents


def stored_agent(stored: StoredAgent) -> Agent:
    return Agent(
        stored.id, stored.role, Tier.parse(stored.tier), frozenset(stored.tags), stored.owner
    )


def _trusted(
    spec: IssuerConfig, base: Path, seconds: Callable[[], float], fetch: JwksFetch | None
) -> TrustedIssuer:
    if fetch is None:
        if spec.jwks_url is not None:
            fetch = http_fetch(spec.jwks_url)
        else:
            assert spec.jwks_file is not None
            path = Path(spec.jwks_file)
            fetch = file_fetch(path if path.is_absolute() else base / path)
    mapping = ClaimMapping(
        tuple(spec.scope_claims),
        tuple(spec.group_claims),
        {group: tuple(scopes) for group, scopes in spec.group_scopes.items()},
    )
    cache = JwksCache(
        fetch, seconds, max_age=spec.jwks_cache_seconds, min_refresh=spec.jwks_min_refresh_seconds
    )
    return TrustedIssuer(
        spec.issuer, frozenset(spec.audiences), cache, frozenset(spec.algorithms), mapping
    )


def _held(delegation: Delegation) -> HeldToken:
    user = User(delegation.subject, delegation.scopes.to_strings(), dict(delegation.user_claims))
    view = {
        "jti": delegation.jti,
        "iss": delegation.issuer,
        "exp": delegation.expires_at,
        "aud": list(delegation.audience),
        "depth": delegation.depth,
    }
    return HeldToken(delegation, user, delegation.chain(), view)


def build_identity(
    settings: IdentityConfig | None,
    *,
    base: Path,
    audit_location: str | None,
    clock: Clock,
    store: IdentityStore | None = None,
) -> IdentityService | None:
    """The identity service a config asks for (None without an ``identity:`` section)."""
    if settings is None:
        return None
    if store is None:
        store = open_identity_store(audit_location)
    key_path = Path(settings.key_file)
    return IdentityService(
        settings,
        key_path=key_path if key_path.is_absolute() else base / key_path,
        store=store,
        clock=clock,
        base=base,
    )


def open_identity_store(location: str | None) -> IdentityStore:
    """The identity store next to the audit trail (memory for an in-memory trail)."""
    from proctor.storage.sqlite.identity_store import SqliteIdentityStore

    if location is None or location in (":memory:", "memory", "memory://", "sqlite:///:memory:"):
        return MemoryIdentityStore()
    if location.startswith(("postgresql://", "postgres://")):
        from proctor.storage.postgres.identity_store import PostgresIdentityStore

        return PostgresIdentityStore(location)
    path = location.removeprefix("sqlite:///")
    return SqliteIdentityStore(path)


__all__ = ["HeldToken", "IdentityService", "build_identity"]
