"""Limits, run ceilings and approval settings as compiled from policy documents.

Pure data: ``proctor.policy`` builds these values, ``proctor.limits`` enforces
them, and neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

_N = TypeVar("_N", int, float)

# What a limit can be keyed by: one counter per distinct combination.
LIMIT_KEYS = ("user", "agent", "role", "tenant", "action")


@dataclass(frozen=True, slots=True)
class LimitDefinition:
    """One ``limits:`` entry: a count of calls, or a sum of a value, over a window.

    ``sum_path`` is the request path summed (``("args", "amount")``); None
    counts calls. Fixed windows are aligned to the Unix epoch (a ``1d`` window
    resets at midnight UTC); sliding windows weigh the previous window by how
    much of it still overlaps the last ``window_seconds``.
    """

    limit_id: str
    policy: str
    ceiling: float
    window_seconds: int
    sliding: bool
    sum_path: tuple[str, ...] | None
    key_by: tuple[str, ...]
    text: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RunCeilings:
    """The ceilings of one agent task (a run); None means no ceiling of that kind."""

    policy: str
    max_tool_calls: int | None = None
    max_duration_seconds: float | None = None
    max_cost: float | None = None
    cost_path: tuple[str, ...] = ("context", "cost")
    max_identical_calls: int | None = None

    def tighten(self, other: RunCeilings) -> RunCeilings:
        """The ceilings of both together: the smaller of each."""
        return RunCeilings(
            f"{self.policy}, {other.policy}",
            _least(self.max_tool_calls, other.max_tool_calls),
            _least(self.max_duration_seconds, other.max_duration_seconds),
            _least(self.max_cost, other.max_cost),
            self.cost_path,
            _least(self.max_identical_calls, other.max_identical_calls),
        )


@dataclass(frozen=True, slots=True)
class ApprovalSettings:
    """Who may approve what a ``require_approval`` rule holds back, and for how long."""

    rule_id: str
    approvers: tuple[str, ...] = ()
    ttl_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class Controls:
    """Everything stateful that applies to one request once its rules have decided."""

    limits: tuple[LimitDefinition, ...] = ()
    ceilings: RunCeilings | None = None


def _least(left: _N | None, right: _N | None) -> _N | None:
    if left is None:
        return right
    if right is None:
        return left
    return min(left, right)
