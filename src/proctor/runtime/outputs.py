"""A tool's result reviewed as named stages: caller, scan, provenance, verdict, record.

The result is scanned and judged under the ``scan: output`` sections (by
``runtime/scanning.py``; a hold is bound to an approval here), its candidate
values enter the run's provenance ledger as untrusted (a later call that carries
one is tainted), and a record (kind ``output``: result digest and findings, never the
result) is written when a section applies or the caller asks for one. Every
failure withholds the result rather than passing it on unreviewed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from proctor.audit.canonical import digest
from proctor.audit.errors import AuditError
from proctor.identity.errors import TokenRejected
from proctor.model.arguments import MAX_DEPTH, MAX_ITEMS
from proctor.model.decision import AUDIT_UNAVAILABLE, STATE_UNAVAILABLE, Decision, Effect
from proctor.model.limits import Controls
from proctor.model.request import Agent, CheckRequest, RunState, User
from proctor.runtime.call import OutputCall
from proctor.runtime.callers import run_denial
from proctor.runtime.output_tree import (
    NestedTooDeep,
    UnreadableResult,
    holds_more_than,
    output_tree,
)
from proctor.runtime.records import iso, output_event
from proctor.runtime.scanning import (
    PROVENANCE_UNAVAILABLE,
    SCAN_UNAVAILABLE,
    OutputReview,
    withheld,
)
from proctor.scanners.provenance import Source
from proctor.storage.errors import StorageError

if TYPE_CHECKING:
    from proctor.policy.scan_rules import ScanVerdict  # the compiler loads with the policies
    from proctor.runtime.parts import EngineParts


@dataclass(frozen=True, slots=True)
class _Caller:
    agent: Agent
    user: User | None
    run: RunState | None


def review_output(runtime: EngineParts, call: OutputCall) -> OutputReview:
    recorded_at = runtime.clock()
    review_id = runtime.new_id(recorded_at)
    caller = _resolve(runtime, call, recorded_at)
    if isinstance(caller, OutputReview):
        return replace(caller, review_id=review_id)
    try:
        tree = output_tree(call.result, whole=True)
    except NestedTooDeep:  # what lies deeper would pass unscanned and never be tainted
        review = withheld(
            review_id,
            f"withheld: the result is nested deeper than {MAX_DEPTH} levels, "
            "so it cannot be scanned or remembered whole",
            "invalid_request",
        )
        return _record(runtime, call, review, caller, _shown(call.result), recorded_at)
    except Exception as exc:  # a result that cannot be read cannot be scanned: withhold it
        reason = (
            f"withheld: {exc}"
            if isinstance(exc, UnreadableResult)  # the type only: the message may hold the text
            else f"withheld: the result could not be reviewed ({type(exc).__name__}): it could "
            "not be read for scanning"
        )
        review = withheld(review_id, reason, SCAN_UNAVAILABLE)
        return _record(runtime, call, review, caller, _unread(call.result), recorded_at)
    if caller.run is not None and holds_more_than(tree, MAX_ITEMS):
        review = withheld(  # the run's provenance reads that many: the rest would pass untainted
            review_id,
            f"withheld: the result holds more than {MAX_ITEMS} values, "
            "more than the run's provenance reads",
            "invalid_request",
        )
        return _record(runtime, call, review, caller, tree, recorded_at)
    plan = runtime.policies.scanning.plan("output", call.action, caller.agent)
    scanned = runtime.content.scan(plan, tree) if plan is not None else None
    if scanned is not None and scanned.error is not None:
        return withheld(
            review_id,
            f"withheld: the scanners this result needs could not run ({scanned.error})",
            SCAN_UNAVAILABLE,
        )
    findings = scanned.findings if scanned is not None else ()
    forgotten = _remember(runtime, call, caller.run, tree, findings, review_id, recorded_at)
    hold = partial(_hold, runtime, call, tree, review_id, caller, recorded_at)
    review = runtime.content.judge_output(plan, scanned, call.result, tree, review_id, hold)
    if forgotten is not None:
        review = withheld(
            review_id,
            f"withheld: the run's provenance could not be recorded ({forgotten.message})",
            PROVENANCE_UNAVAILABLE,
        )
    review = replace(review, findings=findings)
    if plan is None and not call.record and not review.findings and forgotten is None:
        return review
    return _record(runtime, call, review, caller, tree, recorded_at)


def _shown(result: Any) -> Any:
    """What the record keeps of a result withheld for its depth: the tree cut at its bound."""
    try:
        return output_tree(result)
    except Exception:
        return _unread(result)


def _unread(result: Any) -> str:
    return f"<{type(result).__name__}: not read>"


def _resolve(runtime: EngineParts, call: OutputCall, now: datetime) -> _Caller | OutputReview:
    """The caller, as a check would see it; a review that withholds when there is none."""
    callers = runtime.callers
    run = call.run
    delegators: tuple[str, ...] = ()
    if call.token is not None:
        try:
            held = callers.hold(call.token, call.agent, now)
            run = held.run_for(run)
        except TokenRejected as exc:
            return withheld("", f"withheld: token rejected: {exc.message}", exc.code)
        caller = _Caller(held.agent, held.user, run)
        delegators = held.delegators
    else:
        agent = callers.agent(call.agent)
        if isinstance(agent, str):
            return withheld("", f"withheld: {agent}", "unknown_agent")
        caller = _Caller(agent, callers.user(call.user), run)
    if run is not None:
        refused = run_denial(runtime.run_owners, run, caller.agent, caller.user, now, delegators)
        if refused is not None:
            return withheld("", f"withheld: {refused[0]}", refused[1])
    return caller


def _remember(
    runtime: EngineParts,
    call: OutputCall,
    run: RunState | None,
    tree: Any,
    findings: tuple[dict[str, Any], ...],
    review_id: str,
    now: datetime,
) -> StorageError | None:
    """The result's values into the run's ledger as untrusted, and an injection finding in
    it as the run's contamination; the failure, if any."""
    if run is None:
        return None
    source = Source(call.tool or call.action, call.call_id or review_id, iso(now))
    try:
        runtime.content.remember_output(run.run_id, tree, source)
        runtime.content.remember_injection(run.run_id, findings, source, tree)
    except StorageError as exc:  # unremembered values could later pass untainted
        return exc
    return None


def _hold(
    runtime: EngineParts,
    call: OutputCall,
    tree: Any,
    review_id: str,
    caller: _Caller,
    now: datetime,
    verdict: ScanVerdict,
    value: Any,
) -> OutputReview:
    """A result held for an approval bound to this exact result; ``value`` once approved."""
    asked = Decision(Effect.REQUIRE_APPROVAL, verdict.reason, verdict.rule_ids, review_id)
    request = CheckRequest(
        action=call.action,
        agent=caller.agent,
        now=now,
        user=caller.user,
        args={"result_digest": digest(tree)},
        run=caller.run,
        decision_id=review_id,
    )
    policies = runtime.policies
    try:
        decided = runtime.guardrails.apply(
            request, asked, Controls(), lambda: policies.controls.approval(())
        )
    except StorageError as exc:
        return withheld(review_id, f"withheld: {exc.message}", STATE_UNAVAILABLE)
    if decided.allowed:
        return OutputReview(
            Effect.ALLOW,
            value,
            decided.reason,
            rule_ids=verdict.rule_ids,
            redacted=bool(verdict.redactions),
            review_id=review_id,
            code=decided.code,
        )
    approval = next((o["approval_id"] for o in decided.obligations if "approval_id" in o), None)
    return OutputReview(
        Effect.REQUIRE_APPROVAL,
        None,
        decided.reason,
        rule_ids=verdict.rule_ids,
        review_id=review_id,
        approval_id=approval,
        code=decided.code,
    )


def _record(
    runtime: EngineParts,
    call: OutputCall,
    review: OutputReview,
    caller: _Caller,
    tree: Any,
    now: datetime,
) -> OutputReview:
    """The review's record; a record that cannot be written withholds the result."""
    event = output_event(
        review,
        now,
        call.action,
        caller.agent,
        caller.user,
        caller.run,
        call.trace_id,
        tree,
        call.call_id,
        call.tool,
    )
    try:
        runtime.recorder.append(event)
    except (StorageError, AuditError) as exc:
        return withheld(
            review.review_id,
            f"withheld: the audit store is unavailable, so no record could be written "
            f"({exc.message})",
            AUDIT_UNAVAILABLE,
        )
    return review
