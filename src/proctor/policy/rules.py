"""Compiled policies and rules: immutable, ready to evaluate."""

from __future__ import annotations

from dataclasses import dataclass

from proctor.errors import Location
from proctor.model.actions import ActionPattern
from proctor.model.decision import Effect
from proctor.policy.expr import CompiledExpression
from proctor.policy.selector import AgentSelector


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    name: str
    version: int | str
    default: Effect
    audit_mode: bool
    selector: AgentSelector | None
    location: Location
    rule_count: int


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """One rule; ``conditions`` all must hold (``when`` is folded in as one more)."""

    rule_id: str
    policy: CompiledPolicy
    order: int
    effect: Effect
    patterns: tuple[ActionPattern, ...]
    conditions: tuple[CompiledExpression, ...]
    reason: str | None
    selector: AgentSelector | None
    required_scopes: tuple[ActionPattern, ...]
    fail_closed: bool
    location: Location

    @property
    def action_text(self) -> str:
        return ", ".join(str(pattern) for pattern in self.patterns)
