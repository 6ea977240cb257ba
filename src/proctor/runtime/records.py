"""The records the runtime writes: a decision, a tool's result, and the views they share.

These functions only shape values into ``AuditEvent``s; ``AuditRecorder`` is
the one place a runtime appends one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from proctor.audit.canonical import digest
from proctor.model.arguments import ArgumentsRejected, normalize_arguments
from proctor.model.audit_event import AuditEvent
from proctor.model.decision import Decision
from proctor.model.request import Agent, RunState, User
from proctor.runtime.call import AgentLike
from proctor.runtime.content import OutputReview
from proctor.runtime.identity import HeldToken
from proctor.storage.protocols import AuditStore


class AuditRecorder:
    """Appends a runtime's records; ``wait`` answers only once the record is committed."""

    def __init__(self, store: AuditStore, *, wait: bool) -> None:
        self._store = store
        self._wait = wait

    def append(self, event: AuditEvent) -> None:
        """Raises ``StorageError`` or ``AuditError`` when the record cannot be written."""
        self._store.append(event, wait=self._wait)


def decision_event(
    decision: Decision,
    now: datetime,
    evaluated_at: datetime | None,
    action: str,
    agent: Agent | str,
    asked_agent: AgentLike,
    user: User | None,
    args: dict[str, Any],
    resource: str | None,
    run: RunState | None,
    trace_id: str | None,
    latency_us: float,
    held: HeldToken | None = None,
) -> AuditEvent:
    if isinstance(agent, Agent):
        seen_agent = agent_view(agent)
    else:
        seen_agent = {
            "id": asked_agent if isinstance(asked_agent, str) else None,
            "role": None,
            "tier": None,
            "tags": [],
        }
    return AuditEvent(
        kind="decision",
        decision_id=decision.decision_id,
        ts=iso(now),
        trace_id=trace_id,
        user=user_view(user) if user is not None else None,
        agent=seen_agent,
        delegation=held.chain if held is not None else (),
        run_id=run.run_id if run is not None else None,
        action=action,
        resource=resource,
        args=args,
        args_digest=digest(args),
        effect=decision.effect.value,
        rule_ids=decision.rule_ids,
        reason=decision.reason,
        code=decision.code,
        effective_scopes=decision.effective_scopes,
        diagnostics=tuple(item.to_dict() for item in decision.diagnostics),
        shadow=decision.shadow.to_dict() if decision.shadow is not None else None,
        latency_us=round(latency_us, 3),
        result_digest=None,
        extra=_event_extra(evaluated_at, held),
    )


def _event_extra(evaluated_at: datetime | None, held: HeldToken | None) -> dict[str, Any]:
    extra: dict[str, Any] = {"evaluated_at": iso(evaluated_at)} if evaluated_at else {}
    if held is not None:
        extra["token"] = held.token_view
    return extra


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# Registered agents and configured users are the same objects call after call:
# their record views are built once. Keyed by id() and checked by identity.
_VIEW_LIMIT = 4096
_agent_views: dict[int, tuple[Agent, dict[str, Any]]] = {}
_user_views: dict[int, tuple[User, dict[str, Any]]] = {}


def agent_view(agent: Agent) -> dict[str, Any]:
    cached = _agent_views.get(id(agent))
    if cached is not None and cached[0] is agent:
        return cached[1]
    view = {
        "id": agent.id,
        "role": agent.role,
        "tier": agent.tier.value,
        "tags": sorted(agent.tags),
    }
    if len(_agent_views) >= _VIEW_LIMIT:
        _agent_views.clear()
    _agent_views[id(agent)] = (agent, view)
    return view


def user_view(user: User) -> dict[str, Any]:
    cached = _user_views.get(id(user))
    if cached is not None and cached[0] is user:
        return cached[1]
    try:
        claims = normalize_arguments(user.claims)
    except ArgumentsRejected:
        claims = {"_rejected": "the claims are past the bounds of a record"}
    view = {"sub": user.sub, "claims": claims}
    if len(_user_views) >= _VIEW_LIMIT:
        _user_views.clear()
    _user_views[id(user)] = (user, view)
    return view


def with_content(
    event: AuditEvent,
    stored_args: Any,
    stored_notes: Mapping[str, Any],
    findings: tuple[Mapping[str, Any], ...],
    taint: Mapping[str, Any],
) -> AuditEvent:
    """The record with findings and taint, and its args as the audit keeps them
    (``ContentGuard.stored_args``: personal data and secrets out by default)."""
    extra = {**event.extra, **stored_notes}
    if findings:
        extra["findings"] = list(findings)
    if taint:
        extra["taint"] = dict(taint)
    return replace(event, args=stored_args, extra=extra)


def output_event(
    review: OutputReview,
    now: datetime,
    action: str,
    agent: Agent,
    user: User | None,
    run: RunState | None,
    trace_id: str | None,
    tree: Any,
    call_id: str | None,
    tool: str | None,
) -> AuditEvent:
    extra: dict[str, Any] = {"call": call_id, "redacted": review.redacted}
    if tool is not None:
        extra["tool"] = tool
    if review.findings:
        extra["findings"] = list(review.findings)
    if review.approval_id is not None:
        extra["approval_id"] = review.approval_id
    return AuditEvent(
        kind="output",
        decision_id=review.review_id,
        ts=iso(now),
        trace_id=trace_id,
        user=user_view(user) if user is not None else None,
        agent=agent_view(agent),
        run_id=run.run_id if run is not None else None,
        action=action,
        effect=review.effect.value,
        rule_ids=review.rule_ids,
        reason=review.reason,
        code=review.code,
        result_digest=digest(tree),
        extra=extra,
    )


def task_event(
    event_id: str,
    now: datetime,
    run_id: str,
    agent: Agent | str | None,
    user: str | None,
    tree: Any,
    credential: Mapping[str, str],
) -> AuditEvent:
    """A run's task added: who added it and the digest of the content (never the content,
    which is the user's own words and may hold personal data)."""
    return AuditEvent(
        kind="task",
        decision_id=event_id,
        ts=iso(now),
        user={"sub": user, "claims": {}} if user is not None else None,
        agent=agent_view(agent) if isinstance(agent, Agent) else {"id": agent},
        run_id=run_id,
        action="run:task",
        effect="allow",
        reason=f"task added to run `{run_id}`",
        code="task",
        result_digest=digest(tree),
        extra={"credential": dict(credential)},
    )
