"""``Guardrails``: after the rules decide, approvals, limits and run ceilings have their say.

Order for one call: a ``require_approval`` decision passes only by using up an
approval of this exact call (else a pending approval is opened, or the open
one for the same call is returned); then every limit the call meets and the
ceilings of its run are charged in one atomic step. A call denied there hands
its approval back, so the approval is spent only by a call that passes. Denials are decisions,
never exceptions. Calls that meet no limit, no ceiling and no approval never
touch the stores.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from proctor.limits.approvals import Approval, call_hash
from proctor.limits.counters import (
    LIMIT_EXCEEDED,
    CounterCharge,
    InvalidAmount,
    PlannedCharge,
    fits,
    number,
    plan_limit,
)
from proctor.limits.runs import RUN_CEILING, RUN_LOOP, plan_run
from proctor.storage.contracts import ApprovalStore, CounterStore, RunStore

__all__ = [
    "APPROVAL_PENDING",
    "APPROVED",
    "LIMIT_EXCEEDED",
    "LIMIT_VALUE_INVALID",
    "RUN_CEILING",
    "RUN_ENDED",
    "RUN_LOOP",
    "USAGE",
    "Guardrails",
]
from proctor.limits.windows import describe_reset
from proctor.model.decision import Decision, Diagnostic, Effect
from proctor.model.limits import ApprovalSettings, Controls
from proctor.model.request import CheckRequest

NewId = Callable[[datetime], str]
PRUNE_EVERY = 10_000  # admitted charges between two sweeps of finished counter buckets

LIMIT_VALUE_INVALID = "limit_value_invalid"
RUN_ENDED = "run_ended"
APPROVAL_PENDING = "approval_pending"
APPROVED = "approved"
USAGE = "limit_usage"


class Guardrails:
    """The stateful checks of one runtime, over its counter, run and approval stores."""

    def __init__(
        self,
        *,
        counters: CounterStore,
        runs: RunStore,
        approvals: ApprovalStore,
        new_id: NewId,
        on_new_approval: Callable[[Approval], None] | None = None,
    ) -> None:
        self.counters = counters
        self.runs = runs
        self.approvals = approvals
        self.new_id = new_id
        self.on_new_approval = on_new_approval
        self._charges = itertools.count(1)

    def close(self) -> None:
        """Let the new-approval hook finish its work (a webhook's queue), if it has any."""
        close = getattr(self.on_new_approval, "close", None)
        if close is not None:
            close()

    def apply(
        self,
        request: CheckRequest,
        decision: Decision,
        controls: Controls,
        approval: Callable[[], ApprovalSettings],
        charged: list[CounterCharge] | None = None,
    ) -> Decision:
        """The final decision for ``request`` whose rules decided ``decision`` (not a deny).

        An approval used up by a call that a limit or ceiling then denies is handed
        back (approved again): only a call that passes spends it. ``charged`` gets
        the charges applied, for ``undo`` if the decision cannot be recorded.
        """
        if decision.effect is not Effect.REQUIRE_APPROVAL:
            return self._charge(request, decision, controls, charged)
        resolved, used = self._resolve_approval(request, decision, approval)
        if used is None:
            return resolved
        try:
            final = self._charge(request, resolved, controls, charged)
        except Exception:
            self.approvals.release(used, request.decision_id)
            raise
        if not final.allowed:
            self.approvals.release(used, request.decision_id)
            return replace(
                final,
                reason=f"{final.reason}; approval `{used}` stays for the call to retry",
                diagnostics=tuple(d for d in final.diagnostics if d.code != APPROVED),
            )
        return final

    def undo(self, charges: Sequence[CounterCharge]) -> None:
        """Take back ``charges`` (a decision that could not be recorded is not spent)."""
        self.counters.charge(
            [replace(c, amount=-c.amount, ceiling=math.inf, previous_weight=0.0) for c in charges]
        )

    def _charge(
        self,
        request: CheckRequest,
        decision: Decision,
        controls: Controls,
        charged: list[CounterCharge] | None = None,
    ) -> Decision:
        """Every limit and ceiling the call meets, charged at once; a deny when one is full."""
        extra: list[Diagnostic] = []
        if not controls.limits and controls.ceilings is None:
            return decision
        planned: list[PlannedCharge] = []
        try:
            for definition in controls.limits:
                planned.append(plan_limit(definition, request))
            if controls.ceilings is not None and request.run is not None:
                stopped = self._run_stopped(request, controls)
                if stopped is not None:
                    return _deny(decision, *stopped)
                fingerprint = (
                    call_hash(request.action, request.args, None, "")
                    if controls.ceilings.max_identical_calls is not None
                    else ""
                )
                planned.extend(
                    plan_run(controls.ceilings, request, request.run.run_id, fingerprint)
                )
        except InvalidAmount as exc:
            return _deny(
                decision,
                f"denied: {exc}, so the limits on `{request.action}` cannot be counted",
                LIMIT_VALUE_INVALID,
            )
        if not planned:
            return decision
        result = self.counters.charge([item.charge for item in planned])
        if not result.admitted:
            assert result.refused is not None
            item = planned[result.refused]
            return _deny(
                decision,
                _refusal(item, result.used[result.refused]),
                item.code,
                [Diagnostic(item.code, _usage(item, result.used[result.refused]), _id(item))],
            )
        if charged is not None:
            charged.extend(item.charge for item in planned)
        if next(self._charges) % PRUNE_EVERY == 0:
            self.counters.prune(int(request.now.timestamp()))
        for item, used in zip(planned, result.used, strict=True):
            extra.append(Diagnostic(USAGE, _usage(item, used), _id(item)))
        return replace(decision, diagnostics=decision.diagnostics + tuple(extra))

    # -- approvals ------------------------------------------------------------------------

    def _resolve_approval(
        self,
        request: CheckRequest,
        decision: Decision,
        approval: Callable[[], ApprovalSettings],
    ) -> tuple[Decision, str | None]:
        """The call allowed by an approval it used up (and that approval's id), else held."""
        user = request.user.sub if request.user is not None else None
        identity = call_hash(request.action, request.args, user, request.agent.id, request.resource)
        used = self.approvals.consume(identity, request.now, request.decision_id)
        if used is not None:
            allowed = replace(
                decision,
                effect=Effect.ALLOW,
                reason=(
                    f"approved by `{used.decided_by}` (approval `{used.approval_id}`"
                    + (f": {used.reason}" if used.reason else "")
                    + "); this approval is now used up"
                ),
                code=APPROVED,
                diagnostics=(
                    *decision.diagnostics,
                    Diagnostic(APPROVED, f"approval `{used.approval_id}` used", used.approval_id),
                ),
            )
            return allowed, used.approval_id
        settings = approval()
        asked = Approval(
            approval_id=self.new_id(request.now),
            call_hash=identity,
            action=request.action,
            agent=request.agent.id,
            user=user,
            rule_id=settings.rule_id,
            approvers=settings.approvers,
            created_at=request.now,
            expires_at=request.now + timedelta(seconds=settings.ttl_seconds),
            requested_by_decision=request.decision_id,
            args=dict(request.args),
            run_id=request.run.run_id if request.run is not None else None,
            resource=request.resource,
        )
        pending = self.approvals.open_request(asked, request.now)
        if pending.approval_id == asked.approval_id and self.on_new_approval is not None:
            self.on_new_approval(pending)
        expires = (
            pending.expires_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )
        held = replace(
            decision,
            reason=(
                f"{decision.reason} (approval `{pending.approval_id}` is pending until {expires})"
            ),
            code=APPROVAL_PENDING,
            obligations=(
                *decision.obligations,
                {"approval_id": pending.approval_id, "expires_at": expires},
            ),
            diagnostics=(
                *decision.diagnostics,
                Diagnostic(
                    APPROVAL_PENDING,
                    f"approval `{pending.approval_id}` pending",
                    pending.approval_id,
                ),
            ),
        )
        return held, None

    # -- runs -----------------------------------------------------------------------------

    def _run_stopped(self, request: CheckRequest, controls: Controls) -> tuple[str, str] | None:
        assert request.run is not None
        assert controls.ceilings is not None
        run_id = request.run.run_id
        user = request.user.sub if request.user is not None else None
        record = self.runs.start(run_id, request.now, agent=request.agent.id, user=user)
        if record.ended_at is not None:
            return f"denied: run `{run_id}` has ended", RUN_ENDED
        limit = controls.ceilings.max_duration_seconds
        if limit is not None:
            elapsed = (request.now - record.started_at).total_seconds()
            if elapsed > limit:
                return (
                    f"denied: run `{run_id}` passed its ceiling of {limit:g}s "
                    f"({elapsed:.0f}s since it started)",
                    RUN_CEILING,
                )
        return None


def _deny(
    decision: Decision, reason: str, code: str, diagnostics: list[Diagnostic] | None = None
) -> Decision:
    return replace(
        decision,
        effect=Effect.DENY,
        reason=reason,
        code=code,
        obligations=(),
        diagnostics=decision.diagnostics + tuple(diagnostics or ()),
    )


def _id(item: PlannedCharge) -> str | None:
    return item.limit.limit_id if item.limit is not None else None


def _refusal(item: PlannedCharge, used: float) -> str:
    charge = item.charge
    sliding = item.limit is not None and item.limit.sliding
    needs = ""
    if item.limit is not None and item.limit.sum_path is not None:
        needs = f"; this call needs {number(charge.amount)}"
    what = item.limit.reason + ": " if item.limit is not None and item.limit.reason else ""
    return (
        f"denied: {what}{item.label} reached: {number(used)} of {number(charge.ceiling)} used"
        f"{needs}; {describe_reset(item.window, sliding)}"
    )


def _usage(item: PlannedCharge, used: float) -> str:
    state = "used" if fits(0.0, used, item.charge.ceiling) else "over"
    return f"{item.label}: {number(used)} of {number(item.charge.ceiling)} {state}"
