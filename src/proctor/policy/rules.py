"""Compiled policies and rules: immutable, ready to evaluate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from proctor.errors import Location
from proctor.model.actions import ActionPattern
from proctor.model.decision import Effect
from proctor.model.frozen import built_at_once
from proctor.policy.expr import CompiledExpression
from proctor.policy.selector import AgentSelector

# What a rule does when its condition cannot be evaluated (missing path, wrong kind):
# `apply` its own effect (the default of deny and approval rules), `skip` it (does not
# match; the default of allow rules), or `deny` the call (`on_error: deny`).
OnError = Literal["apply", "skip", "deny"]


def on_error_mode(effect: Effect, on_error: str | None) -> OnError:
    """The compiled ``on_error`` of a rule: what the policy says, else what its effect implies."""
    if on_error == "deny":
        return "deny"
    if on_error == "skip" or effect is Effect.ALLOW:
        return "skip"
    return "apply"


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    name: str
    version: int | str
    default: Effect
    audit_mode: bool
    selector: AgentSelector | None
    location: Location
    rule_count: int


@built_at_once  # a large set builds ten thousand of them: one assignment each, not eleven
@dataclass(frozen=True, eq=False)
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
    on_error: OnError
    location: Location

    @property
    def action_text(self) -> str:
        return ", ".join(str(pattern) for pattern in self.patterns)
