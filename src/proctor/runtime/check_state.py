"""One check on its way through the pipeline's stages (``pipeline.py``): what each found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from proctor.limits.counters import CounterCharge
from proctor.limits.demotions import Demotion
from proctor.model.decision import Decision, Effect
from proctor.model.limits import Controls
from proctor.model.request import Agent, CheckRequest, RunState, User
from proctor.runtime.call import CheckCall
from proctor.runtime.scanning import Scanned

if TYPE_CHECKING:
    from proctor.policy import CompiledPolicySet  # loads the compiler: with the first policies
    from proctor.policy.scan_rules import ScanPlan
    from proctor.runtime.identity import HeldToken  # annotation only: keeps JOSE unloaded
    from proctor.runtime.parts import EngineParts
    from proctor.telemetry import DecisionTrace


@dataclass(slots=True, init=False)  # its own __init__: fresh dicts without a factory call each
class Check:
    """One check on its way through the stages: what each stage found so far."""

    call: CheckCall
    policies: CompiledPolicySet  # one set for the whole check, even if a reload swaps it
    decision_id: str
    recorded_at: datetime
    now: datetime
    trace_id: str | None
    run: RunState | None
    started: int  # perf_counter_ns() when the check began (its record's `latency_us`)
    caller_trace_id: str | None  # a caller's plain correlation id, kept beside the span's
    agent: Agent | None  # the resolved agent (None: unknown, and the call denied)
    user: User | None
    held: HeldToken | None
    args: dict[str, Any]  # as recorded (canonical JSON)
    exact_args: dict[str, Any] | None  # exact numbers kept, for conditions
    context: dict[str, Any]
    scopes: tuple[str, ...]
    scan_plan: ScanPlan | None
    scanned: Scanned | None
    taint: dict[str, dict[str, Any]]
    request: CheckRequest | None
    demotion: Demotion | None
    traced: DecisionTrace | None  # the check's span, finished once it is settled
    lap_mark: int  # when the last deciding stage ended, in ns (the stage timings)
    controls: Controls | None  # the limits and ceilings that apply, once looked up
    settlers: tuple[Settling, ...]  # an untimed check's settling stages (`_acting_stages`)
    observe: Callable[[str, float], None] | None  # a timed check's observer
    charged: list[CounterCharge]  # undone if it is not recorded

    def __init__(
        self,
        call: CheckCall,
        policies: CompiledPolicySet,
        decision_id: str,
        recorded_at: datetime,
        now: datetime,
        trace_id: str | None,
        run: RunState | None,
        started: int,
        caller_trace_id: str | None,
    ) -> None:
        self.call = call
        self.policies = policies
        self.decision_id = decision_id
        self.recorded_at = recorded_at
        self.now = now
        self.trace_id = trace_id
        self.run = run
        self.started = started
        self.caller_trace_id = caller_trace_id
        # what the stages find: nothing yet
        self.agent = None
        self.user = None
        self.held = None
        self.args = {}
        self.exact_args = None
        self.context = {}
        self.scopes = ()
        self.scan_plan = None
        self.scanned = None
        self.taint = {}
        self.request = None
        self.demotion = None
        self.traced = None
        self.lap_mark = 0
        self.controls = None
        self.settlers = ()
        self.observe = None
        self.charged = []

    def deny(self, reason: str, code: str) -> Decision:
        return Decision(Effect.DENY, reason, (), self.decision_id, self.scopes, code=code)


Deciding = Callable[["EngineParts", Check], Decision | None]
Settling = Callable[["EngineParts", Check, Decision], Decision]
