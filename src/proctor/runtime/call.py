"""One value for one check request (and one for a result to review), built at every edge.

The SDK, the remote SDK, the HTTP bodies, AuthZEN, the MCP gate, the adapters
and the CLI all build a ``CheckCall``; the runtime and the protocols take it.
A new field is added here once: ``CallFields`` mirrors the tuple, and mypy
checks every ``CheckCall(action, **fields)`` against it. The values are named
tuples: immutable, and built on every check without a setattr per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from proctor.model.actions import validate_action
from proctor.model.request import Agent, RunState, User

AgentLike = Agent | str | None  # an agent, its id, or none (the default agent)
UserLike = User | str | Mapping[str, Any] | None  # a user, its `sub`, its claims, or none


class CheckCall(NamedTuple):
    """What an edge asks: may ``agent`` do ``action`` for ``user`` with ``args`` now.

    ``at`` evaluates the policies as of another time (what-if checks; the record
    keeps the real time and notes ``evaluated_at``). ``token`` is a delegation
    token that fixes user, agent and scopes. ``traceparent`` (W3C) makes the
    decision's span a child of the caller's. ``refused`` (code, reason) is a call
    its placement refuses before any policy (an MCP ``tools/call`` sent as a
    notification), recorded as a deny.
    """

    action: str
    agent: AgentLike = None
    user: UserLike = None
    args: Mapping[str, Any] | None = None
    resource: str | None = None
    context: Mapping[str, Any] | None = None
    run: RunState | None = None
    trace_id: str | None = None
    at: datetime | None = None
    token: str | None = None
    traceparent: str | None = None
    refused: tuple[str, str] | None = None
    decision_id: str | None = None  # set by an edge that keys the check (a request id)


class CallFields(TypedDict, total=False):
    """Every field of ``CheckCall`` but the action: the keyword arguments of ``check``."""

    agent: AgentLike
    user: UserLike
    args: Mapping[str, Any] | None
    resource: str | None
    context: Mapping[str, Any] | None
    run: RunState | None
    trace_id: str | None
    at: datetime | None
    token: str | None
    traceparent: str | None
    refused: tuple[str, str] | None


class OutputCall(NamedTuple):
    """A tool's result to review, and the call it answers (``call_id``: its decision id)."""

    action: str
    result: Any
    call_id: str | None = None
    agent: AgentLike = None
    user: UserLike = None
    run: RunState | None = None
    tool: str | None = None
    trace_id: str | None = None
    token: str | None = None
    record: bool = False


class OutputFields(TypedDict, total=False):
    """Every field of ``OutputCall`` but the action and result: ``review_output``'s keywords."""

    call_id: str | None
    agent: AgentLike
    user: UserLike
    run: RunState | None
    tool: str | None
    trace_id: str | None
    token: str | None
    record: bool


class KnownActions:
    """The actions already found well formed, so a check validates each name once.

    Bounded: past ``limit`` names it starts over, so callers naming ever new
    actions cannot grow it without end.
    """

    __slots__ = ("_known", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        self._known: set[str] = set()
        self._limit = limit

    def problem(self, action: str) -> str | None:
        """Why ``action`` is not a well-formed action name, or None (and it is remembered)."""
        if action in self._known:
            return None
        problem = validate_action(action)
        if problem is None:
            if len(self._known) >= self._limit:
                self._known.clear()
            self._known.add(action)
        return problem
