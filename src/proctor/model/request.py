"""What a check asks: who (user), which agent, which action, with what arguments, when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from proctor.model.tiers import Tier

# The defaults of a request's mappings: one shared empty dict each (a request is read,
# never written), so a request without arguments serializes as one with ``{}``.
_EMPTY: Mapping[str, Any] = {}


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
    """One agent task: its id and what it has used so far.

    None is "not known": a condition that reads it cannot be evaluated, so a
    deny or approval rule on it applies and an allow rule does not match. The
    runtime fills ``elapsed_seconds`` from the run's start in the store; the
    calls and spend so far are what an in-process caller says (the edges
    cannot say, and ``runs:`` ceilings count them in the store).
    """

    run_id: str
    tool_calls: int | None = None
    elapsed_seconds: float | None = None
    spend: float | None = None
    # tool outputs of this run with an injection finding: ``{"tool", "call", "at", "score"}``
    injections: tuple[Mapping[str, Any], ...] = ()


class CheckRequest(NamedTuple):
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

    A named tuple, like ``CheckCall``: immutable, and built on every check
    without a setattr per field (a frozen dataclass pays about a microsecond
    for its fourteen).
    """

    action: str
    agent: Agent
    now: datetime
    user: User | None = None
    args: Mapping[str, Any] = _EMPTY
    resource: str | None = None
    context: Mapping[str, Any] = _EMPTY
    run: RunState | None = None
    effective_scopes: tuple[str, ...] | None = None
    decision_id: str = ""
    trace_id: str | None = None
    findings: tuple[Mapping[str, Any], ...] = ()
    taint: Mapping[str, Mapping[str, Any]] = _EMPTY
    exact_args: Mapping[str, Any] | None = None

    @property
    def evaluated_args(self) -> Mapping[str, Any]:
        """The arguments as conditions and limits read them (exact numbers kept)."""
        return self.args if self.exact_args is None else self.exact_args
