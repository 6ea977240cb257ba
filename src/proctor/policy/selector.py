"""Which agents a policy or a rule applies to."""

from __future__ import annotations

from dataclasses import dataclass

from proctor.model.request import Agent
from proctor.model.tiers import Tier
from proctor.policy.schema import AgentSelectorSpec


@dataclass(frozen=True, slots=True)
class AgentSelector:
    """Every given dimension must match; within one, any listed value does."""

    agents: frozenset[str] | None = None
    roles: frozenset[str] | None = None
    tiers: frozenset[Tier] | None = None
    min_rank: int | None = None
    tags: frozenset[str] | None = None

    @classmethod
    def from_spec(cls, spec: AgentSelectorSpec | None) -> AgentSelector | None:
        if spec is None:
            return None
        return cls(
            agents=frozenset(spec.agents) if spec.agents is not None else None,
            roles=frozenset(spec.roles) if spec.roles is not None else None,
            tiers=frozenset(Tier.parse(t) for t in spec.tiers) if spec.tiers is not None else None,
            min_rank=Tier.parse(spec.min_tier).rank if spec.min_tier is not None else None,
            tags=frozenset(spec.tags) if spec.tags is not None else None,
        )

    def matches(self, agent: Agent) -> bool:
        if self.agents is not None and agent.id not in self.agents:
            return False
        if self.roles is not None and agent.role not in self.roles:
            return False
        if self.tiers is not None and agent.tier not in self.tiers:
            return False
        if self.min_rank is not None and agent.tier.rank < self.min_rank:
            return False
        return not (self.tags is not None and self.tags.isdisjoint(agent.tags))
