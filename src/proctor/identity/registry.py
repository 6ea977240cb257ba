"""Registered agents and the scopes their roles grant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from proctor.identity.scopes import ScopeSet
from proctor.model.request import Agent


@dataclass(frozen=True, slots=True)
class AgentRegistry:
    """Agents by id, and role name → granted scopes."""

    agents: Mapping[str, Agent] = field(default_factory=dict)
    roles: Mapping[str, ScopeSet] = field(default_factory=dict)

    def get(self, agent_id: str) -> Agent | None:
        return self.agents.get(agent_id)

    def role_scopes(self, role: str | None) -> ScopeSet | None:
        """The scopes of ``role``; None when the agent has no role (no restriction by role).

        A role that is named but not defined grants nothing.
        """
        if role is None:
            return None
        return self.roles.get(role, ScopeSet(()))
