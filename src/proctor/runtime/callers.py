"""Who is calling: the agent (at its current tier), the user, and what they may do together.

One resolver serves every edge: the check pipeline, a result's review, the MCP
proxy's ``tools/list`` and the gateway, so what a list shows and what a check
decides cannot disagree (a tier lowered by a ``tiers:`` rule applies to both).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from proctor.identity.errors import TOKEN_NOT_CONFIGURED, TOKEN_UNKNOWN_ACTOR, TokenRejected
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet, effective_scopes
from proctor.limits.run_owners import RUN_MISMATCH, RUN_NOT_OWNED, RunOwners
from proctor.model.decision import STATE_UNAVAILABLE
from proctor.model.request import Agent, RunState, User
from proctor.model.tiers import Tier
from proctor.runtime.call import AgentLike, UserLike
from proctor.storage.errors import StorageError

if TYPE_CHECKING:
    # only for annotations: PyJWT and cryptography load with an `identity:` section (build.py)
    from proctor.runtime.identity import HeldToken, IdentityService

_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class ResolvedCaller:
    """The agent and user of a call, and the token that named them (if one did)."""

    agent: Agent
    user: User | None
    held: HeldToken | None = None

    def run_for(self, run: RunState | None) -> RunState | None:
        """The call's run: a token issued for a run acts in that run only.

        Raises ``TokenRejected`` (``run_mismatch``) when the call names another run.
        """
        bound = self.held.delegation.run_id if self.held is not None else None
        if bound is None:
            return run
        if run is not None and run.run_id != bound:
            raise TokenRejected(
                f"the token is bound to run `{bound}`, not `{run.run_id}`", code=RUN_MISMATCH
            )
        return run if run is not None else RunState(bound)

    @property
    def delegators(self) -> tuple[str, ...]:
        """The agents that delegated to this one, nearest first (none without a token)."""
        return self.held.delegation.actors[1:] if self.held is not None else ()


class CallerResolver:
    """Agents by id (at their demoted tier), users by ``sub``, delegation tokens, scopes."""

    def __init__(
        self,
        registry: AgentRegistry,
        users: Mapping[str, User],
        *,
        default_agent: str | None = None,
        identity: IdentityService | None = None,
    ) -> None:
        self._registry = registry
        self.users = users
        self.default_agent = default_agent
        self.identity = identity
        if identity is not None:
            identity.registry = registry
        self._lock = threading.Lock()
        self._demoted: dict[str, Tier] = {}  # tiers lowered by `tiers:` rules in this process
        self._scopes: dict[tuple[tuple[str, ...] | None, str | None], ScopeSet] = {}

    @property
    def registry(self) -> AgentRegistry:
        return self._registry

    def replace_registry(self, registry: AgentRegistry) -> None:
        """Swap in the agents after one was created, revoked or changed."""
        self._registry = registry
        if self.identity is not None:
            self.identity.registry = registry

    # -- agents -----------------------------------------------------------------------

    def agent(self, agent: AgentLike) -> Agent | str:
        """The agent, or the reason it is unknown (a deny, never an error)."""
        if isinstance(agent, Agent):
            return self._demote(agent) if self._demoted else agent
        agent_id = agent if agent is not None else self.default_agent
        if agent_id is None:
            return "no agent was named and no default agent is configured"
        found = self._registry.agents.get(agent_id)  # `AgentRegistry.get`, without its call
        if found is None:
            return f"unknown agent `{agent_id}`: it is not registered"
        return self._demote(found) if self._demoted else found

    def demote(self, agent_id: str, tier: Tier) -> None:
        """A ``tiers:`` rule lowered ``agent_id``: it applies from the next call."""
        with self._lock:
            self._demoted[agent_id] = tier

    def lift_demotion(self, agent_id: str) -> None:
        """Forget a rule's demotion of ``agent_id`` in this process (an admin set its tier)."""
        with self._lock:
            self._demoted.pop(agent_id, None)

    def _demote(self, agent: Agent) -> Agent:
        """The agent at the tier a `tiers:` rule lowered it to (never raised back here)."""
        lowered = self._demoted.get(agent.id)
        if lowered is None or lowered.rank >= agent.tier.rank:
            return agent
        return replace(agent, tier=lowered)

    # -- users and tokens -----------------------------------------------------------------

    def user(self, user: UserLike) -> User | None:
        if user is None or isinstance(user, User):
            return user
        if isinstance(user, str):
            return self.users.get(user, User(user))
        claims = {key: value for key, value in user.items() if key not in ("sub", "scopes")}
        return User(str(user.get("sub", "")), tuple(user.get("scopes", ())), claims)

    def hold(self, token: str, asked: AgentLike, now: datetime) -> ResolvedCaller:
        """The caller a delegation token names; raises ``TokenRejected``."""
        if self.identity is None:
            raise TokenRejected(
                "this runtime verifies no delegation tokens: add an `identity:` section",
                code=TOKEN_NOT_CONFIGURED,
            )
        held = self.identity.hold(token, asked, now.timestamp())
        actor = held.delegation.actor
        found = self._registry.get(actor) or self.identity.agent(actor)
        if found is None:
            raise TokenRejected(
                f"agent `{actor}` of the token is not registered (or revoked)",
                code=TOKEN_UNKNOWN_ACTOR,
            )
        return ResolvedCaller(self._demote(found) if self._demoted else found, held.user, held)

    def principal_for(
        self, agent: AgentLike, user: UserLike, token: str | None, now: datetime
    ) -> tuple[Agent, ScopeSet] | None:
        """The agent (demoted as a check would see it) and its effective scopes, or None."""
        if token is not None:
            try:
                caller = self.hold(token, agent, now)
            except TokenRejected:
                return None
            return caller.agent, self.scopes(caller.user, caller.agent)
        found = self.agent(agent)
        if isinstance(found, str):
            return None
        resolved_user = self.user(user)
        return found, self.scopes(resolved_user, found)

    # -- scopes -----------------------------------------------------------------------------

    def scopes(self, user: User | None, agent: Agent) -> ScopeSet:
        """The user's scopes ∩ the agent's role's scopes (cached by both)."""
        key = (user.scopes if user is not None else None, agent.role)
        found = self._scopes.get(key)
        if found is None:
            user_scopes = ScopeSet.parse(user.scopes) if user is not None else None
            found = effective_scopes(user_scopes, self._registry.role_scopes(agent.role))
            with self._lock:
                if len(self._scopes) >= _CACHE_LIMIT:
                    self._scopes.clear()
                self._scopes[key] = found
        return found

    def scope_reason(self, action: str, scopes: ScopeSet, user: User | None, agent: Agent) -> str:
        """Why ``action`` is outside ``scopes``: the user's, the role's, or their overlap."""
        lacking: list[str] = []
        if user is not None and not ScopeSet.parse(user.scopes).allows(action):
            lacking.append(f"user `{user.sub}` holds no scope for it")
        role_scopes = self._registry.role_scopes(agent.role)
        if role_scopes is not None and not role_scopes.allows(action):
            lacking.append(f"role `{agent.role}` of agent `{agent.id}` grants no scope for it")
        why = " and ".join(lacking) or "the user's and the role's scopes do not overlap on it"
        return f"`{action}` is outside the effective scopes ({scopes}): {why}"


def run_denial(
    owners: RunOwners,
    run: RunState,
    agent: Agent,
    user: User | None,
    now: datetime,
    delegators: tuple[str, ...] = (),
) -> tuple[str, str] | None:
    """(reason, code) when ``run`` belongs to another agent or user (the first to name it);
    a store that cannot say denies too (checks and results alike)."""
    sub = user.sub if user else None
    try:
        why = owners.claim(run.run_id, agent.id, sub, now, delegators=delegators)
    except StorageError as exc:
        return f"denied: {exc.message}", STATE_UNAVAILABLE
    return None if why is None else (f"denied: {why}", RUN_NOT_OWNED)
