"""The records the runtime writes, and the one place each is shaped into an ``AuditEvent``.

``decision_event`` shapes the hot one (every check's); ``audit_event`` every
other kind (a result's review, runs, approvals, agent and tier changes, policy
reloads, sign-ins, tasks, token exchanges, demotions), so an action taken from
the CLI and its HTTP twin give the same record. These functions only
shape values; ``AuditRecorder`` is the one place a runtime appends one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from proctor.audit.canonical import digest
from proctor.limits.demotions import Demotion
from proctor.model.arguments import ArgumentsRejected, normalize_arguments
from proctor.model.audit_event import AuditEvent
from proctor.model.decision import Decision, Effect
from proctor.model.frozen import from_fields
from proctor.model.request import Agent, RunState, User
from proctor.runtime.call import AgentLike
from proctor.runtime.scanning import OutputReview
from proctor.storage.contracts import AuditStore

if TYPE_CHECKING:  # annotations only: PyJWT and cryptography load with an `identity:` section
    from proctor.identity.errors import ExchangeError
    from proctor.identity.exchange import IssuedDelegation, TokenExchangeRequest
    from proctor.runtime.identity import HeldToken


class AuditRecorder:
    """Appends a runtime's records; ``wait`` answers only once the record is committed."""

    def __init__(self, store: AuditStore, *, wait: bool) -> None:
        self._store = store
        self._wait = wait

    def append(self, event: AuditEvent, *, wait: bool | None = None) -> None:
        """Raises ``StorageError`` or ``AuditError`` when the record cannot be written.

        ``wait`` (default: the runtime's durability) answers only once it is stored.
        """
        self._store.append(event, wait=self._wait if wait is None else wait)


def audit_event(
    kind: str,
    event_id: str,
    at: datetime,
    *,
    action: str,
    effect: str,
    reason: str,
    agent: Agent | Mapping[str, Any] | str | None,
    user: User | Mapping[str, Any] | str | None = None,
    run_id: str | None = None,
    args: dict[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    code: str | None = None,
    trace_id: str | None = None,
    delegation: tuple[dict[str, Any], ...] = (),
    effective_scopes: tuple[str, ...] = (),
    rule_ids: tuple[str, ...] = (),
    result_digest: str | None = None,
) -> AuditEvent:
    """A record of ``kind`` other than a decision (``decision_event``: every check's).

    ``agent`` is the registered agent (its role, tier and tags are recorded),
    a view already made, or only its id; ``user`` a user, a view or only a
    ``sub``; ``code`` defaults to the kind.
    """
    return AuditEvent(
        kind=kind,
        decision_id=event_id,
        ts=iso(at),
        trace_id=trace_id,
        user=_user_of(user),
        agent=_agent_of(agent),
        delegation=delegation,
        run_id=run_id,
        action=action,
        args=args if args is not None else {},
        args_digest=digest(args) if args is not None else "",
        effect=effect,
        reason=reason,
        rule_ids=rule_ids,
        code=kind if code is None else code,
        effective_scopes=effective_scopes,
        result_digest=result_digest,
        extra=dict(extra) if extra is not None else {},
    )


def _agent_of(agent: Agent | Mapping[str, Any] | str | None) -> dict[str, Any]:
    if isinstance(agent, Agent):
        return agent_view(agent)
    if isinstance(agent, Mapping):
        return dict(agent)
    return _unregistered(agent)


def _user_of(user: User | Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    if user is None:
        return None
    if isinstance(user, User):
        return user_view(user)
    if isinstance(user, Mapping):
        return dict(user)
    return {"sub": user, "claims": {}}


def _unregistered(agent_id: str | None) -> dict[str, Any]:
    return {"id": agent_id, "role": None, "tier": None, "tags": []}


def decision_event(
    decision: Decision,
    now: datetime,
    evaluated_at: datetime | None,
    action: str,
    agent: Agent | None,
    asked_agent: AgentLike,
    user: User | None,
    args: dict[str, Any],
    resource: str | None,
    run: RunState | None,
    trace_id: str | None,
    latency_ns: int,
    held: HeldToken | None = None,
    policy_digest: str = "",
) -> AuditEvent:
    # A copy of the shared fields, then this check's: a dict built key by key with its
    # twenty-two fields costs twice as much, on every check (`from_fields`: no __init__).
    values = _DECISION_FIELDS.copy()
    values["decision_id"] = decision.decision_id
    values["ts"] = iso(now)
    if agent is not None:
        values["agent"] = agent_view(agent)
    else:  # unknown: the id it was asked for, as given
        values["agent"] = _unregistered(asked_agent if isinstance(asked_agent, str) else None)
    values["action"] = action
    values["effect"] = _EFFECT_TEXT[decision.effect]
    values["reason"] = decision.reason
    if trace_id is not None:
        values["trace_id"] = trace_id
    if user is not None:
        values["user"] = user_view(user)
    if run is not None:
        values["run_id"] = run.run_id
    if resource is not None:
        values["resource"] = resource
    values["args"] = args
    values["args_digest"] = digest(args)
    values["rule_ids"] = decision.rule_ids
    values["code"] = decision.code
    values["effective_scopes"] = decision.effective_scopes
    if decision.diagnostics:
        values["diagnostics"] = tuple(item.to_dict() for item in decision.diagnostics)
    if decision.shadow is not None:
        values["shadow"] = decision.shadow.to_dict()
    # µs at ns resolution: ns / 1000 is already the float round(µs, 3) would give
    values["latency_us"] = latency_ns / 1000
    extra: dict[str, Any] = {"evaluated_at": iso(evaluated_at)} if evaluated_at else {}
    if policy_digest:  # which set decided (`proctor policy show --digest`)
        extra["policy_digest"] = policy_digest
    if held is not None:
        values["delegation"] = held.chain
        extra["token"] = held.token_view
    values["extra"] = extra
    return from_fields(AuditEvent, values)


# A decision record's fields in field order, with the values a record keeps when the check
# has none (no trace, user, run, resource, delegation, diagnostics or shadow). Immutable
# values only: every record starts from a copy (`args` and `extra`, mutable, are set anew).
_UNFILLED = AuditEvent(
    kind="decision", decision_id="", ts="", agent={}, action="", effect="", reason=""
)
_DECISION_FIELDS: dict[str, Any] = {**vars(_UNFILLED), "args": None, "extra": None}
# An effect as the record writes it (`Effect.value`, a property, costs more than this lookup)
_EFFECT_TEXT = {effect: effect.value for effect in Effect}


def iso(moment: datetime) -> str:
    """``moment`` in UTC with microseconds and a ``Z``: ``2026-11-24T10:00:00.123456Z``."""
    if moment.tzinfo is UTC:  # the clocks' own zone: no conversion (every check's `ts`)
        second = (moment.toordinal(), moment.hour, moment.minute, moment.second)
        text = _SECONDS.get(second)
        if text is None:  # formatted once per second, not once per record
            text = moment.replace(microsecond=0, tzinfo=None).isoformat()
            if len(_SECONDS) >= _SECONDS_LIMIT:
                _SECONDS.clear()
            _SECONDS[second] = text
        return "%s.%06dZ" % (text, moment.microsecond)  # noqa: UP031 - f"{:06d}" costs more
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


_SECONDS: dict[tuple[int, int, int, int], str] = {}
_SECONDS_LIMIT = 4096


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
    return audit_event(
        "output",
        review.review_id,
        now,
        action=action,
        effect=review.effect.value,
        reason=review.reason,
        agent=agent,
        user=user,
        run_id=run.run_id if run is not None else None,
        code=review.code,
        trace_id=trace_id,
        rule_ids=review.rule_ids,
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
    return audit_event(
        "task",
        event_id,
        now,
        action="run:task",
        effect="allow",
        reason=f"task added to run `{run_id}`",
        agent=agent if isinstance(agent, Agent) else {"id": agent},
        user=user,
        run_id=run_id,
        result_digest=digest(tree),
        extra={"credential": dict(credential)},
    )


def demotion_event(event_id: str, at: datetime, demotion: Demotion, agent: Agent) -> AuditEvent:
    """A ``tiers:`` rule lowered ``agent``: the new tier, and the rule and denials that did it."""
    rule = demotion.rule
    return audit_event(
        "tier_change",
        event_id,
        at,
        action="agent:demote",
        effect="allow",
        reason=(
            f"demoted by tier rule `{rule.rule_id}`: {demotion.denials} denials "
            f"within {rule.window_text}"
        ),
        agent=replace(agent, tier=demotion.after),
        code="",
        extra={
            "from": demotion.before.value,
            "to": demotion.after.value,
            "by": "rule",
            "cause": {
                "rule_id": rule.rule_id,
                "denials": demotion.denials,
                "window": rule.window_text,
                "window_seconds": rule.window_seconds,
                "window_start": iso(datetime.fromtimestamp(demotion.window_start, UTC)),
            },
        },
    )


def exchange_event(
    event_id: str,
    at: datetime,
    request: TokenExchangeRequest,
    actor: str | None,
    issued: IssuedDelegation | None,
    error: ExchangeError | None,
) -> AuditEvent:
    """The ``token_exchange`` record: who, for whom, which scopes; never a token itself."""
    delegation = issued.delegation if issued is not None else None
    extra: dict[str, Any] = {
        "requested_scope": list(request.scope),
        "audience": list(request.audience or request.resource),
        "subject_token_digest": digest({"t": request.subject_token}),
        "actor_token_type": request.actor_token_type,
    }
    if delegation is not None:
        extra.update(
            {"jti": delegation.jti, "exp": delegation.expires_at, "aud": list(delegation.audience)}
        )
        if delegation.parents:
            extra["parent_jtis"] = list(delegation.parents)
    if error is not None:
        extra["error"] = error.error
    if delegation is None:
        return audit_event(
            "token_exchange",
            event_id,
            at,
            action="token:exchange",
            effect="deny",
            reason=error.message if error is not None else "",
            agent=actor,
            run_id=request.run_id,
            code=error.code if error is not None else "",
            extra=extra,
        )
    return audit_event(
        "token_exchange",
        event_id,
        at,
        action="token:exchange",
        effect="allow",
        reason=(f"issued a delegation token to `{delegation.actor}` for `{delegation.subject}`"),
        agent={
            "id": delegation.actor,
            "role": delegation.role,
            "tier": delegation.tier,
            "tags": [],
        },
        user={"sub": delegation.subject, "claims": dict(delegation.user_claims)},
        delegation=delegation.chain(),
        run_id=delegation.run_id,
        code="",
        effective_scopes=delegation.scopes.to_strings(),
        extra=extra,
    )
