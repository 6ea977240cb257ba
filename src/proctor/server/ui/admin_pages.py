"""Agents (tier, role, recent activity, revoke), policies (rule hits, shadow denials),
budgets and runs (use over time), all counted over the newest records of the audit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proctor.runtime.agents import AgentAdminError
from proctor.runtime.following import follower_of
from proctor.server.auth import AGENTS_WRITE
from proctor.server.routes import status
from proctor.server.routes.agents import admin_key_actor
from proctor.server.state import GatewayState
from proctor.server.ui import charts, trail, usage
from proctor.server.ui.rendering import flash, gateway_state, redirect, render, shown
from proctor.server.ui.sessions import account, checked_form

_CHARTS = 20  # budget charts on the page: the keys used most recently


def _recent_usage(state: GatewayState) -> usage.Usage:
    page = trail.newest(state.runtime.audit, trail.Search({}), before=None, limit=usage.WINDOW)
    return usage.summarize(reversed(page.rows))


async def agents(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    runtime = state.runtime

    def read() -> tuple[list[dict[str, Any]], usage.Usage]:
        identity = runtime.identity
        stored = {a.id: a for a in identity.store.list_agents()} if identity is not None else {}
        listed: list[dict[str, Any]] = []
        for agent in runtime.registry.agents.values():
            if agent.id not in stored:
                listed.append(
                    {"id": agent.id, "role": agent.role, "tier": agent.tier.value,
                     "source": "config", "revoked": False}
                )  # fmt: skip
        for item in stored.values():
            listed.append(
                {"id": item.id, "role": item.role, "tier": item.tier, "source": "store",
                 "revoked": item.revoked_at is not None}
            )  # fmt: skip
        return sorted(listed, key=lambda a: a["id"]), _recent_usage(state)

    listed, counted = await to_thread.run_sync(read)
    return render(
        request,
        "agents.html",
        {
            "agents": listed,
            "activity": counted.agents,
            "window": counted.records,
            "may_revoke": signed_in.holds(AGENTS_WRITE),
        },
        account=signed_in,
        page="agents",
    )


async def revoke(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state, AGENTS_WRITE)
    await checked_form(request)
    agent_id = request.path_params["agent_id"]

    def change() -> str | None:
        try:
            state.agents.revoke(agent_id, admin_key_actor(signed_in.name, kind="dashboard"))
        except AgentAdminError as refused:
            return refused.message
        return None

    problem = await to_thread.run_sync(change)
    if problem is None:
        flash(request, f"revoked {agent_id}: its keys and tokens no longer work")
    else:
        flash(request, problem, "error")
    return redirect(request, "/agents")


async def policies(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    compiled = state.runtime.policies
    counted = await to_thread.run_sync(lambda: _recent_usage(state))
    follower = follower_of(state.runtime)  # every process on the store and the version it runs
    processes = await to_thread.run_sync(status.report, follower) if follower else None
    rules = [
        {
            "id": rule.rule_id,
            "policy": rule.policy.name,
            "mode": "audit" if rule.policy.audit_mode else "enforce",
            "action": rule.action_text,
            "effect": rule.effect.value,
            "reason": rule.reason or "",
            "hits": counted.rule_hits.get(rule.rule_id, 0),
            "shadow": counted.shadow_denials.get(rule.rule_id, 0),
        }
        for rule in compiled.rules
    ]
    return render(
        request,
        "policies.html",
        {
            "policies": compiled.policies,
            "rules": rules,
            "shadow": sorted(counted.shadow_denials.items()),
            "window": counted.records,
            "digest": compiled.digest,
            "version": follower.version if follower is not None else None,
            "status": processes,
        },
        account=signed_in,
        page="policies",
    )


async def limits(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    counted = await to_thread.run_sync(lambda: _recent_usage(state))
    budgets = [
        {
            "series": series,
            "chart": charts.step_chart(
                series.points,
                ceiling=series.maximum,
                title=shown(f"limit {series.limit_id} for {series.who}"),
            ),
        }
        for series in _most_recent(counted.limits.values())
    ]
    days = sorted(counted.per_day.items())
    per_day = charts.bar_chart(
        [(day, dict(counts)) for day, counts in days],
        series=usage.EFFECTS,
        title="decisions per day by effect",
    )
    runs = sorted(counted.runs.values(), key=lambda run: run.last, reverse=True)
    return render(
        request,
        "limits.html",
        {
            "budgets": budgets,
            "budgets_not_drawn": max(0, len(counted.limits) - _CHARTS),
            "per_day": per_day,
            "days": days,
            "runs": runs,
            "effects": usage.EFFECTS,
            "window": counted.records,
        },
        account=signed_in,
        page="limits",
    )


def _most_recent(series: Iterable[usage.LimitSeries]) -> list[usage.LimitSeries]:
    """The ``_CHARTS`` keys used most recently, in name order (one chart each)."""
    recent = sorted(series, key=lambda item: item.points[-1][0], reverse=True)[:_CHARTS]
    return sorted(recent, key=lambda item: (item.limit_id, item.who))


routes = [
    Route("/agents", agents, methods=["GET"]),
    Route("/agents/{agent_id}/revoke", revoke, methods=["POST"]),
    Route("/policies", policies, methods=["GET"]),
    Route("/limits", limits, methods=["GET"]),
]
