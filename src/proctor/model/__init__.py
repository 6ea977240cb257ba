"""Pure data shared by every layer: requests, decisions, tiers, action patterns.

Also the values the limits and their stores both speak in (``approvals``,
``counters``, ``runs``, ``limits_errors``), so storage needs nothing of ``limits``.
"""

from proctor.model.actions import ActionPattern, InvalidPattern, parse_pattern, validate_action
from proctor.model.decision import Decision, Diagnostic, Effect, ShadowResult
from proctor.model.request import Agent, CheckRequest, RunState, User
from proctor.model.tiers import Tier

__all__ = [
    "ActionPattern",
    "Agent",
    "CheckRequest",
    "Decision",
    "Diagnostic",
    "Effect",
    "InvalidPattern",
    "RunState",
    "ShadowResult",
    "Tier",
    "User",
    "parse_pattern",
    "validate_action",
]
