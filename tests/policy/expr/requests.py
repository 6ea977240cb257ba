"""Building evaluation contexts for the expression tests from plain data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from proctor.model.request import Agent, CheckRequest, RunState, User
from proctor.model.tiers import Tier
from proctor.policy.context import EvalContext

NOW = "2026-03-02T10:30:15Z"


def make_context(spec: dict[str, Any]) -> EvalContext:
    """An EvalContext for a request described like the `request` of cases.yaml."""
    agent_spec = spec.get("agent") or {"id": "bot"}
    agent = Agent(
        id=agent_spec["id"],
        role=agent_spec.get("role"),
        tier=Tier.parse(agent_spec.get("tier", "unverified")),
        tags=frozenset(agent_spec.get("tags", ())),
        owner=agent_spec.get("owner"),
    )
    user_spec = spec.get("user")
    user = None
    if user_spec is not None:
        user = User(
            sub=user_spec["sub"],
            scopes=tuple(user_spec.get("scopes", ())),
            claims=user_spec.get("claims", {}),
        )
    run_spec = spec.get("run")
    request = CheckRequest(
        action=spec.get("action", "read:orders"),
        agent=agent,
        now=datetime.fromisoformat(spec.get("now", NOW)),
        user=user,
        args=spec.get("args") or {},
        resource=spec.get("resource"),
        context=spec.get("context") or {},
        run=RunState(**run_spec) if run_spec else None,
        taint=spec.get("taint") or {},
    )
    return EvalContext(request, ZoneInfo(spec.get("timezone", "UTC")))


def plain(value: Any) -> Any:
    """``value`` with tuples as lists and booleans tagged, for exact comparison with YAML."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
