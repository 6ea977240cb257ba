"""What a check asks: who (user), which agent, which action, with what arguments, when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from proctor.model.tiers import Tier


@dataclass(frozen=True, slots=True)
class User:
    """The person an agent acts for (the subject): ``sub``, scopes and IdP claims."""

    sub: str
    scopes: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Agent:
    """The agent making the call (the actor)."""

    id: str
    role: str | None = None
    tier: Tier = Tier.UNVERIFIED
    tags: frozenset[str] = frozenset()
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class RunState:
    """One agent task: its id and what it has used so far."""

    run_id: str
    tool_calls: int = 0
    elapsed_seconds: float = 0.0
    spend: float = 0.0
    # tool outputs of this run with an injection finding: ``{"tool", "call", "at", "score"}``
    injections: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """Everything a policy decision may look at.

    ``now`` is an aware datetime from the caller's injected clock.
    ``effective_scopes`` is None when scopes are not known (pure engine use);
    the runtime always fills it in.
    ``findings`` are the scanners' findings in the arguments (dicts as in
    ``Finding.to_dict``); ``taint`` maps an argument path (``recipient``,
    ``items[0].iban``) to where its value came from when that was untrusted
    tool output (``{"kind", "tool", "call", "at"}``).
    ``exact_args``, when set, is ``args`` with exact numbers kept as numbers
    (``Decimal``, ``Fraction``, integers beyond 2**53) where ``args`` holds
    their text for the record; conditions and limits read it
    (``evaluated_args``).
    """

    action: str
    agent: Agent
    now: datetime
    user: User | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    resource: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    run: RunState | None = None
    effective_scopes: tuple[str, ...] | None = None
    decision_id: str = ""
    trace_id: str | None = None
    findings: tuple[Mapping[str, Any], ...] = ()
    taint: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exact_args: Mapping[str, Any] | None = None

    @property
    def evaluated_args(self) -> Mapping[str, Any]:
        """The arguments as conditions and limits read them (exact numbers kept)."""
        return self.args if self.exact_args is None else self.exact_args
