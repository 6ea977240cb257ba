"""``AgentAdmin``: agents created at run time, their credentials and tiers, for every edge.

``proctor agent`` on the command line, the gateway's ``/v1/admin/agents``
routes and the dashboard's agents page all act through this one service, so
the same action gives the same answer, the same error code and the same
audit record: ``agent_change`` for a creation, a key rotation and a
revocation, ``tier_change`` for a tier set by hand. Who acted is the
record's ``user`` (``by``); how they proved it is ``extra.credential`` (an
admin key, a dashboard session, the operator of the CLI).

Every change is recorded, and the record stored, before it is made: with the
audit store down nothing changes. Agents from the config file are listed and
shown but change only by editing the file. API keys are returned once and
stored as digests; a public key (a JWK) lets the agent sign client assertions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jwt.api_jwk import PyJWK
from jwt.exceptions import PyJWTError

from proctor.errors import ProctorError
from proctor.identity.credentials import new_api_key
from proctor.identity.registry import AgentRegistry
from proctor.model.tiers import TIER_NAMES
from proctor.runtime.engine import Runtime
from proctor.runtime.identity import IdentityService, stored_agent
from proctor.storage.contracts import StoredAgent, StoredCredential

AGENT_EXISTS = "agent_exists"
AGENT_IN_CONFIG = "agent_in_config"
AGENT_REVOKED = "agent_revoked"
IDENTITY_NOT_CONFIGURED = "identity_not_configured"
INVALID_AGENT = "invalid_agent"
INVALID_PUBLIC_KEY = "invalid_public_key"
UNKNOWN_AGENT = "unknown_agent"
UNKNOWN_ROLE = "unknown_role"
UNKNOWN_TIER = "unknown_tier"

AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")
_TEXT_LIMIT = 200  # a role, owner, tag, `by` or key id
_REASON_LIMIT = 2000
_TAG_LIMIT = 50
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")  # RFC 7518 §6: private or secret


class AgentAdminError(ProctorError):
    """An agent action refused; ``code`` is one of this module's constants."""

    code = "agent_admin_error"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts (``by``, recorded as the record's user) and the credential they used."""

    by: str
    credential: Mapping[str, str]


class AgentAdmin:
    """Create, list, show, rotate, revoke and set the tier of agents; every change audited.

    ``configured`` is the config file's registry: after a change the runtime's
    registry becomes it plus the store's unrevoked agents (None: leave the
    runtime's registry alone, as a one-shot CLI command may).
    """

    def __init__(self, runtime: Runtime, configured: AgentRegistry | None = None) -> None:
        self.runtime = runtime
        self._configured = configured
        # one change at a time in this process: two creations of one id cannot both pass
        # the check and each issue a key (the store replaces, it does not refuse)
        self._changing = threading.Lock()

    @property
    def identity(self) -> IdentityService:
        identity = self.runtime.identity
        if identity is None:
            raise AgentAdminError(
                "agents are kept by the identity store: add an `identity:` section",
                code=IDENTITY_NOT_CONFIGURED,
            )
        return identity

    # -- reading ----------------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        """The config's agents, then the store's (revoked ones too)."""
        store = self.identity.store
        listed = [
            {"id": a.id, "role": a.role, "tier": a.tier.value, "source": "config"}
            for a in self.runtime.registry.agents.values()
            if store.get_agent(a.id) is None
        ]
        return listed + [{**s.to_dict(), "source": "store"} for s in store.list_agents()]

    def show(self, agent_id: str) -> dict[str, Any]:
        """One agent and its live credentials (kinds and ids, never a secret)."""
        store = self.identity.store
        stored = store.get_agent(agent_id)
        configured = self.runtime.registry.get(agent_id) if stored is None else None
        if stored is not None:
            body: dict[str, Any] = {**stored.to_dict(), "source": "store"}
        elif configured is not None:
            body = {
                "id": agent_id,
                "role": configured.role,
                "tier": configured.tier.value,
                "source": "config",
            }
        else:
            raise AgentAdminError(f"unknown agent `{agent_id}`", code=UNKNOWN_AGENT)
        body["credentials"] = [
            {"kind": item.kind, "key_id": item.key_id, "created_at": item.created_at}
            for item in store.credentials(agent_id)
        ]
        return body

    # -- changes ----------------------------------------------------------------------------

    def create(
        self,
        agent_id: str,
        actor: Actor,
        *,
        role: str | None = None,
        tier: str = "unverified",
        owner: str | None = None,
        tags: Sequence[str] = (),
        api_key: bool = True,
        public_key: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register ``agent_id``; the answer holds its API key, the only time it is shown.

        An id once used stays used: a revoked agent is not created again.
        """
        _check_id(agent_id)
        _check_actor(actor)
        _check_tier(tier)
        _check_text("owner", owner)
        tags = _checked_tags(tags)
        if role is not None:
            _check_text("role", role)
            if role not in self.runtime.registry.roles:
                raise AgentAdminError(
                    f"role `{role}` is not defined in the config", code=UNKNOWN_ROLE
                )
        jwk, kid = _public_key(public_key) if public_key is not None else (None, None)
        agent = StoredAgent(agent_id, role, tier, owner, tags)
        with self._changing:
            return self._register(agent, actor, api_key, jwk, kid)

    def rotate(self, agent_id: str, actor: Actor) -> dict[str, Any]:
        """A new API key, the old ones revoked; the new key is in the answer, once."""
        identity = self.identity
        _check_actor(actor)
        with self._changing:
            stored = self._live(agent_id)
            live = sum(1 for c in identity.store.credentials(agent_id) if c.kind == "api_key")
            why = f"API key of agent `{agent_id}` rotated by `{actor.by}`"
            self._record(
                "agent_change", "agent:rotate", why, stored, actor,
                {"by": actor.by, "revoked_keys": live},
            )  # fmt: skip
            now = int(identity.now())
            revoked = identity.store.revoke_credentials(agent_id, now, kind="api_key")
            key = self._issue_api_key(agent_id, now)
        return {"id": agent_id, "api_key": key, "revoked_keys": revoked}

    def revoke(self, agent_id: str, actor: Actor) -> dict[str, Any]:
        """The agent, its credentials and the tokens it holds stop working at once."""
        identity = self.identity
        _check_actor(actor)
        with self._changing:
            stored = self._live(agent_id)
            live = len(identity.store.credentials(agent_id))
            self._record(
                "agent_change", "agent:revoke", f"agent `{agent_id}` revoked by `{actor.by}`",
                stored, actor, {"by": actor.by, "revoked_credentials": live},
            )  # fmt: skip
            now = int(identity.now())
            identity.store.put_agent(replace(stored, revoked_at=now))
            revoked = identity.store.revoke_credentials(agent_id, now)
            identity.revoked_agents.revoke(agent_id, now, "revoked")
            self._refresh()
        return {"id": agent_id, "revoked_at": now, "revoked_credentials": revoked}

    def set_tier(self, agent_id: str, tier: str, actor: Actor, *, reason: str) -> dict[str, Any]:
        """The agent's tier, set by hand: it also lifts a ``tiers:`` rule's demotion."""
        identity = self.identity
        _check_actor(actor)
        _check_tier(tier)
        if not isinstance(reason, str) or not reason.strip() or len(reason) > _REASON_LIMIT:
            raise AgentAdminError(
                f"a tier change needs a reason of 1 to {_REASON_LIMIT} characters",
                code=INVALID_AGENT,
            )
        with self._changing:
            stored = self._live(agent_id)
            changed = replace(stored, tier=tier)
            self._record(
                "tier_change", "agent:set-tier", reason, changed, actor,
                {"from": stored.tier, "to": tier, "by": actor.by},
            )  # fmt: skip
            identity.store.put_agent(changed)
            self.runtime.lift_demotion(agent_id)  # an admin's tier overrides a `tiers:` rule's
            self._refresh()
        return {"id": agent_id, "from": stored.tier, "to": tier, "by": actor.by}

    # -- helpers ----------------------------------------------------------------------------

    def _register(
        self,
        agent: StoredAgent,
        actor: Actor,
        api_key: bool,
        jwk: dict[str, Any] | None,
        kid: str | None,
    ) -> dict[str, Any]:
        identity = self.identity
        agent_id = agent.id
        if identity.store.get_agent(agent_id) is not None or self.runtime.registry.get(agent_id):
            raise AgentAdminError(f"agent `{agent_id}` exists already", code=AGENT_EXISTS)
        now = int(identity.now())
        agent = replace(agent, created_at=now)
        kinds = [kind for kind, wanted in (("api_key", api_key), ("public_key", jwk)) if wanted]
        extra: dict[str, Any] = {
            "by": actor.by,
            "tier": agent.tier,
            "role": agent.role,
            "credentials": kinds,
        }
        if kid is not None:
            extra["public_key_kid"] = kid
        why = f"agent `{agent_id}` created by `{actor.by}`"
        self._record("agent_change", "agent:create", why, agent, actor, extra)
        identity.store.put_agent(agent)
        answer: dict[str, Any] = {"id": agent_id, "role": agent.role, "tier": agent.tier}
        if jwk is not None and kid is not None:
            identity.store.add_credential(
                StoredCredential(agent_id, "public_key", kid, public_jwk=jwk, created_at=now)
            )
            answer["public_key_kid"] = kid
        if api_key:
            answer["api_key"] = self._issue_api_key(agent_id, now)
        self._refresh()
        return answer

    def _live(self, agent_id: str) -> StoredAgent:
        """The stored, unrevoked agent; a config agent, an unknown or a revoked one refused."""
        found = self.identity.store.get_agent(agent_id)
        if found is None:
            if self.runtime.registry.get(agent_id) is not None:
                raise AgentAdminError(
                    f"agent `{agent_id}` comes from the config file: change it there",
                    code=AGENT_IN_CONFIG,
                )
            raise AgentAdminError(f"unknown agent `{agent_id}`", code=UNKNOWN_AGENT)
        if found.revoked_at is not None:
            raise AgentAdminError(f"agent `{agent_id}` has been revoked", code=AGENT_REVOKED)
        return found

    def _record(
        self,
        kind: str,
        action: str,
        reason: str,
        agent: StoredAgent,
        actor: Actor,
        extra: dict[str, Any],
    ) -> None:
        """Store the change's record first: an audit store that fails leaves nothing changed."""
        self.runtime.record(
            kind,
            action=action,
            effect="allow",
            reason=reason,
            agent=stored_agent(agent),
            user=actor.by,
            extra={**extra, "credential": dict(actor.credential)},
            wait=True,
        )

    def _issue_api_key(self, agent_id: str, now: int) -> str:
        key, record = new_api_key(agent_id)
        self.identity.store.add_credential(
            StoredCredential(
                agent_id, "api_key", record.key_id, digest=record.digest, created_at=now
            )
        )
        return key

    def _refresh(self) -> None:
        """The config's agents plus the store's unrevoked ones, after an agent changed."""
        if self._configured is not None:
            registry = self.identity.with_stored_agents(self._configured)
            self.runtime.replace_registry(registry)


def _check_id(agent_id: object) -> None:
    if not isinstance(agent_id, str) or AGENT_ID.match(agent_id) is None:
        raise AgentAdminError(
            f"`{str(agent_id)[:_TEXT_LIMIT]}` is not an agent id: letters, digits and "
            "`._:@-`, starting with a letter or digit, at most 200 characters",
            code=INVALID_AGENT,
        )


def _check_actor(actor: Actor) -> None:
    _check_text("by", actor.by)
    if not actor.by:
        raise AgentAdminError("a change needs to say who makes it (`by`)", code=INVALID_AGENT)


def _check_tier(tier: object) -> None:
    if tier not in TIER_NAMES:
        raise AgentAdminError(
            f"unknown tier `{str(tier)[:_TEXT_LIMIT]}`",
            code=UNKNOWN_TIER,
            details={"expected": list(TIER_NAMES)},
        )


def _check_text(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > _TEXT_LIMIT):
        raise AgentAdminError(
            f"`{name}` must be text of at most {_TEXT_LIMIT} characters", code=INVALID_AGENT
        )


def _checked_tags(tags: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tags, str) or len(tags) > _TAG_LIMIT:
        raise AgentAdminError(f"`tags` must be a list of at most {_TAG_LIMIT}", code=INVALID_AGENT)
    for tag in tags:
        _check_text("tags", tag)
    return tuple(tags)


def _public_key(jwk: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The JWK as stored, and its key id; a private key or an unusable one is refused."""
    if not isinstance(jwk, Mapping):
        raise AgentAdminError("the public key must be a JWK object", code=INVALID_PUBLIC_KEY)
    private = sorted(member for member in _PRIVATE_MEMBERS if member in jwk)
    if private:
        raise AgentAdminError(
            f"the key holds private members ({', '.join(private)}): send the public key only",
            code=INVALID_PUBLIC_KEY,
        )
    try:
        PyJWK(dict(jwk))
    except (PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise AgentAdminError(
            f"the public key is not a usable JWK: {exc}", code=INVALID_PUBLIC_KEY
        ) from exc
    kid = jwk.get("kid") or "default"
    if not isinstance(kid, str) or len(kid) > _TEXT_LIMIT:
        raise AgentAdminError(
            f"the key's `kid` must be text of at most {_TEXT_LIMIT} characters",
            code=INVALID_PUBLIC_KEY,
        )
    return dict(jwk), kid
