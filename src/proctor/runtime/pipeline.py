"""The check as a list of named stages, timed and traced by the pipeline, not by each stage.

Deciding stages (resolve the caller, validate, scopes, scan, evaluate) run in
order until one returns a decision; settling stages (limits and approvals,
demotion, record) then each take the decision and return it, or a stricter
one. A stage is a small function of the ``Check`` on its way through; it
fills in what later stages read (the caller, the arguments, the request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from time import perf_counter_ns
from typing import TYPE_CHECKING

from proctor.audit.errors import AuditError
from proctor.identity.errors import TokenRejected
from proctor.model.arguments import (
    ArgumentsRejected,
    normalize_arguments,
    normalize_call_arguments,
)
from proctor.model.decision import AUDIT_UNAVAILABLE, STATE_UNAVAILABLE, Decision, Effect
from proctor.model.request import Agent, CheckRequest
from proctor.runtime.call import CheckCall
from proctor.runtime.callers import run_denial
from proctor.runtime.check_state import Check, Deciding, Settling
from proctor.runtime.records import decision_event, with_content
from proctor.runtime.scanning import PROVENANCE_UNAVAILABLE
from proctor.storage.errors import StorageError

if TYPE_CHECKING:
    from proctor.policy import CompiledPolicySet  # loads the compiler: with the first policies
    from proctor.runtime.parts import EngineParts

_new_tuple = tuple.__new__
# Codes that say a store failed: a denial for want of a store demotes no agent.
_INFRASTRUCTURE = (STATE_UNAVAILABLE, PROVENANCE_UNAVAILABLE)
# The effects the stages compare with, read once: a member read through its enum class
# costs several times a module global.
_ALLOW, _DENY = Effect.ALLOW, Effect.DENY


# -- deciding stages ----------------------------------------------------------------------


def resolve_caller(runtime: EngineParts, check: Check) -> Decision | None:
    """The agent and user: named by a delegation token, or by the call."""
    call, callers = check.call, runtime.callers
    if call.token is not None:
        try:
            caller = callers.hold(call.token, call.agent, check.recorded_at)
            check.run = caller.run_for(check.run)
        except TokenRejected as exc:
            agent = callers.agent(call.agent)
            check.agent = agent if not isinstance(agent, str) else None
            check.user = callers.user(call.user)
            return check.deny(f"token rejected: {exc.message}", exc.code)
        check.agent, check.user, check.held = caller.agent, caller.user, caller.held
        return None
    agent = callers.agent(call.agent)
    if call.user is not None:  # none: no user (`CallerResolver.user`), without the call
        check.user = callers.user(call.user)
    if isinstance(agent, str):
        return check.deny(agent, "unknown_agent")
    check.agent = agent
    return None


def validate(runtime: EngineParts, check: Check) -> Decision | None:
    """A well-formed action; arguments and context within the bounds of a record."""
    problem = runtime.known_actions.problem(check.call.action)
    if problem is not None:
        return check.deny(f"invalid action: {problem}", "invalid_request")
    try:
        check.args, check.exact_args = normalize_call_arguments(check.call.args)
        context = check.call.context
        check.context = normalize_arguments(context) if context else {}
    except ArgumentsRejected as exc:
        return check.deny(f"invalid arguments: {exc}", "invalid_request")
    return None


def placement(runtime: EngineParts, check: Check) -> Decision | None:
    """A call its placement refused before any policy (``CheckCall.refused``)."""
    refused = check.call.refused
    return check.deny(refused[1], refused[0]) if refused is not None else None


def run_owner(runtime: EngineParts, check: Check) -> Decision | None:
    """A call in a run another agent or user started is denied (``limits.run_owners``)."""
    if check.run is None:
        return None
    agent = check.agent
    assert agent is not None  # set by `resolve_caller`, or the call was denied
    delegators = check.held.delegation.actors[1:] if check.held is not None else ()
    refused = run_denial(runtime.run_owners, check.run, agent, check.user, check.now, delegators)
    if refused is not None:
        return check.deny(*refused)
    started = runtime.run_owners.started_at(check.run.run_id)
    if check.run.elapsed_seconds is None and started is not None:  # `run.elapsed`, as stored
        elapsed = max(0.0, (check.now - started).total_seconds())
        check.run = replace(check.run, elapsed_seconds=elapsed)
    return None


def scopes(runtime: EngineParts, check: Check) -> Decision | None:
    """The user's scopes ∩ the role's must allow the action."""
    agent = check.agent
    assert agent is not None  # set by `resolve_caller`, or the call was denied
    held = runtime.callers.scopes(check.user, agent)
    check.scopes = held.to_strings()
    if held.allows(check.call.action):
        return None
    reason = runtime.callers.scope_reason(check.call.action, held, check.user, agent)
    return check.deny(reason, "scope_missing")


def scan(runtime: EngineParts, check: Check) -> Decision | None:
    """The arguments scanned as the ``scan: input`` sections ask; the run's taint."""
    agent = check.agent
    assert agent is not None  # set by `resolve_caller`, or the call was denied
    plan = check.policies.scanning.plan("input", check.call.action, agent)
    if plan is not None:
        check.scan_plan = plan
        check.scanned = runtime.content.scan(plan, check.args)
    try:
        check.taint = runtime.content.taint(check.run.run_id if check.run else None, check.args)
        if check.run is not None:  # the run's contamination: outputs with an injection finding
            seen = runtime.content.injections(check.run.run_id)
            if seen:
                check.run = replace(check.run, injections=seen)
    except StorageError as exc:  # unknown taint: fail closed
        return check.deny(
            f"the run's provenance could not be read: {exc.message}", PROVENANCE_UNAVAILABLE
        )
    return None


def evaluate(runtime: EngineParts, check: Check) -> Decision:
    """The policies' decision, with the scan verdict folded in."""
    agent = check.agent
    assert agent is not None  # set by `resolve_caller`, or the call was denied
    call = check.call
    # made without the named tuple's generated __new__, which builds this same tuple and
    # costs more than the tuple does: every field, in field order (test_pipeline pins it)
    check.request = _new_tuple(
        CheckRequest,
        (
            call.action,
            agent,
            check.now,
            check.user,
            check.args,
            call.resource,
            check.context,
            check.run,
            check.scopes,
            check.decision_id,
            check.trace_id,
            check.scanned.findings if check.scanned is not None else (),
            check.taint,
            check.exact_args,
        ),
    )
    decision = check.policies.evaluate(check.request)
    if check.scan_plan is not None and check.scanned is not None:
        decision = runtime.content.judge_input(check.scan_plan, check.scanned, decision, check.args)
    return decision


# -- settling stages ----------------------------------------------------------------------


def limits(runtime: EngineParts, check: Check, decision: Decision) -> Decision:
    """Approvals, limits and run ceilings; a denied or unevaluated call touches no store."""
    if decision.effect is _DENY or check.request is None:
        return decision
    controls = check.policies.controls
    if decision.effect is _ALLOW and not (
        controls.has_limits or (controls.has_ceilings and check.run is not None)
    ):
        return decision
    found = check.controls if check.controls is not None else controls.for_request(check.request)
    try:
        return runtime.guardrails.apply(
            check.request,
            decision,
            found,
            lambda: controls.approval(decision.rule_ids),
            check.charged,
        )
    except StorageError as exc:
        return Decision(
            Effect.DENY,
            f"denied: the limits store is unavailable ({exc.message})",
            (),
            decision.decision_id,
            decision.effective_scopes,
            code=STATE_UNAVAILABLE,
        )


def demotion(runtime: EngineParts, check: Check, decision: Decision) -> Decision:
    """A denial counted against the ``tiers:`` rules (as of ``now``, like limits)."""
    if (
        decision.effect is _DENY
        and check.policies.controls.has_tier_rules
        and check.agent is not None
        and decision.code not in _INFRASTRUCTURE
    ):
        check.demotion = runtime.count_denial(check.policies, check.agent, check.now)
    return decision


def record(runtime: EngineParts, check: Check, decision: Decision) -> Decision:
    """The decision's audit record; one that cannot be written turns it into a deny."""
    call = check.call
    event = decision_event(
        decision,
        check.recorded_at,
        call.at,
        call.action,
        check.agent,
        call.agent,
        check.user,
        check.args,
        call.resource,
        check.run,
        check.trace_id,
        perf_counter_ns() - check.started,
        check.held,
        check.policies.digest,
    )
    if check.caller_trace_id is not None:  # the record's `trace_id` is the span's
        event = replace(event, extra={**event.extra, "caller_trace_id": check.caller_trace_id})
    stored, notes = runtime.content.stored_args(
        runtime.store_args, check.args, check.scan_plan, check.scanned
    )
    if check.scan_plan is not None:  # what was looked for, so a replay knows what was not
        types = check.scan_plan.types
        notes = {**notes, "scanned": sorted(types) if types is not None else ["*"]}
    if decision.findings or check.taint or notes or stored is not check.args:
        event = with_content(event, stored, notes, decision.findings, check.taint)
    try:
        runtime.recorder.append(event)
    except (StorageError, AuditError) as exc:
        undo_charges(runtime, check)
        return unrecorded(decision, exc.message)
    if check.demotion is not None:
        assert check.agent is not None
        runtime.record_demotion(check.demotion, check.agent, check.recorded_at)
    return decision


DECIDING: tuple[tuple[str, Deciding], ...] = (
    ("resolve_caller", resolve_caller),
    ("validate", validate),
    ("placement", placement),
    ("run_owner", run_owner),
    ("scopes", scopes),
    ("scan", scan),
    ("evaluate", evaluate),
)
SETTLING: tuple[tuple[str, Settling], ...] = (
    ("limits", limits),
    ("demotion", demotion),
    ("record", record),
)
STAGE_NAMES = tuple(name for name, _ in (*DECIDING, *SETTLING))

# An untimed check runs only the stages that can act on it: the others would pass it on
# unchanged (a stage call costs more than most stages' work). Chosen once per policy set
# and kind of call; a timed check runs every stage, so each is observed on every check.
_Acting = tuple["CompiledPolicySet", tuple[Deciding, ...], tuple[Settling, ...]]
_acting: dict[tuple[int, bool, bool], _Acting] = {}
_ACTING_LIMIT = 64


def _acting_stages(
    policies: CompiledPolicySet, call: CheckCall, key: tuple[int, bool, bool]
) -> _Acting:
    refused, in_run = call.refused is not None, call.run is not None or call.token is not None
    idle = {
        placement: not refused,
        run_owner: not in_run,  # a token may name a run
        scan: not in_run and not policies.scanning.has_input,  # no plan, no taint
        demotion: not policies.controls.has_tier_rules,
    }
    acting = (
        policies,
        tuple(stage for _, stage in DECIDING if not idle.get(stage, False)),
        tuple(stage for _, stage in SETTLING if not idle.get(stage, False)),
    )
    if len(_acting) >= _ACTING_LIMIT:
        _acting.clear()
    _acting[key] = acting
    return acting


def run_check(
    runtime: EngineParts, call: CheckCall, observe: Callable[[str, float], None] | None
) -> Decision:
    """Every stage over ``call``; ``observe`` (the gateway's metrics) gets each stage's time."""
    check, decision = begin_check(runtime, call, observe)
    return settle_check(runtime, check, decision)


def begin_check(
    runtime: EngineParts, call: CheckCall, observe: Callable[[str, float], None] | None
) -> tuple[Check, Decision]:
    """The deciding stages: the policies' decision, before anything is charged or recorded.

    The gateway decides here on its event loop and settles there too, unless
    ``settling_waits`` says the rest may wait on a store (it then settles on a thread).
    """
    started = perf_counter_ns()
    trace_id = call.trace_id
    traced = None
    if runtime.tracer is not None or call.traceparent is not None or trace_id is not None:
        from proctor.telemetry import begin_trace  # only for a traced check (it loads pydantic)

        traced = begin_trace(runtime.tracer, call.traceparent, trace_id)
        trace_id = traced.trace_id if traced is not None else trace_id
    recorded_at = runtime.clock()
    check = Check(  # positional: built on every check
        call,
        runtime.policies,
        call.decision_id or runtime.new_id(recorded_at),
        recorded_at,
        call.at or recorded_at,
        trace_id,
        call.run,
        started,
        traced.caller_trace_id if traced is not None else None,
    )
    if traced is not None:
        check.traced = traced
    decision: Decision | None = None
    if observe is not None:
        mark = started
        for name, decide in DECIDING:
            decision = decide(runtime, check)
            mark = _lap(observe, name, mark)
            if decision is not None:
                break
        check.lap_mark = mark
        check.observe = observe  # its settling stages are timed too
    else:
        key = (id(check.policies), call.refused is None, call.run is None and call.token is None)
        acting = _acting.get(key)
        if acting is None or acting[0] is not check.policies:
            acting = _acting_stages(check.policies, call, key)
        for decide in acting[1]:
            decision = decide(runtime, check)
            if decision is not None:
                break
        check.settlers = acting[2]
    assert decision is not None  # `evaluate` always decides
    return check, decision


def settle_check(
    runtime: EngineParts,
    check: Check,
    decision: Decision,
) -> Decision:
    """The settling stages after ``begin_check``: limits and approvals, demotion, record.

    Timed when ``begin_check`` timed the deciding stages (``check.observe``).
    """
    observe = check.observe
    if observe is not None:
        mark = check.lap_mark
        for name, settle in SETTLING:
            decision = settle(runtime, check, decision)
            mark = _lap(observe, name, mark)
    else:
        for settle in check.settlers:
            decision = settle(runtime, check, decision)
    traced = check.traced
    if traced is not None:
        call = check.call
        sub = check.user.sub if check.user is not None else None
        agent_id = check.agent.id if check.agent is not None else call.agent
        agent_id = agent_id if isinstance(agent_id, str) else None
        from proctor.telemetry import tool_name  # loaded by `begin_check` already

        traced.finish(decision, call.action, agent_id, sub, tool_name(call.context))
    return decision


def settling_waits(check: Check, decision: Decision) -> bool:
    """True when settling ``decision`` may touch a state store (and so wait on it).

    What ``limits`` and ``demotion`` read: an approval to find or open, a
    limit or run ceiling that applies to this call, a denial counted against
    a ``tiers:`` rule. Anything else only appends its record (a queue).
    """
    controls = check.policies.controls
    if decision.effect is _DENY:
        return (
            controls.has_tier_rules
            and isinstance(check.agent, Agent)
            and decision.code not in _INFRASTRUCTURE
        )
    if check.request is None:
        return False
    if decision.effect is not _ALLOW:
        return True
    if not (controls.has_limits or (controls.has_ceilings and check.run is not None)):
        return False
    check.controls = found = controls.for_request(check.request)
    return bool(found.limits) or found.ceilings is not None


def _lap(observe: Callable[[str, float], None], stage: str, since: int) -> int:
    """Report the time since ``since`` (ns) as ``stage``'s, in seconds; now is the next
    stage's start."""
    now = perf_counter_ns()
    observe(stage, (now - since) / 1e9)
    return now


def undo_charges(runtime: EngineParts, check: Check) -> None:
    """A decision not recorded is not spent: its charges are taken back (once).

    Tried here first, so a store that answers leaves the budget exact when the
    denial is; a store that does not gets them retried off this path
    (``charge_returns.py``), never dropped.
    """
    charged, check.charged = check.charged, []
    if charged:
        try:
            runtime.guardrails.undo(charged)
        except StorageError:  # the limits store is down too: retried until it answers
            runtime.charge_returns.take_back(charged)


def unrecorded(decision: Decision, problem: str) -> Decision:
    """The deny that replaces ``decision`` when its audit record could not be written."""
    return Decision(
        Effect.DENY,
        f"denied: the audit store is unavailable, so no record could be written ({problem})",
        decision.rule_ids,
        decision.decision_id,
        decision.effective_scopes,
        diagnostics=decision.diagnostics,
        code=AUDIT_UNAVAILABLE,
    )
