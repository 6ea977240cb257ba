"""``Runtime``: one engine over the wired parts, the face every placement calls.

The SDK, the gateway and the MCP proxy all call ``Runtime.decide`` (or its
keyword form ``check``), so the same request gets the same decision and the
same audit record shape. The check itself is ``runtime.pipeline``; the parts
(policies, callers, scanners, limits, audit) are built by ``runtime.build``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Unpack

from proctor.audit.errors import AuditError
from proctor.clock import Clock, DecisionIds, system_clock
from proctor.errors import ProctorError
from proctor.identity.errors import TOKEN_NOT_CONFIGURED, ExchangeError
from proctor.identity.registry import AgentRegistry
from proctor.limits.approvals import Approval
from proctor.limits.demotions import Demotion, count_denial
from proctor.limits.gate import Guardrails
from proctor.limits.run_owners import RunOwners
from proctor.model.decision import Decision
from proctor.model.request import Agent, User
from proctor.runtime.call import CallFields, CheckCall, KnownActions, OutputCall, OutputFields
from proctor.runtime.callers import CallerResolver
from proctor.runtime.charge_returns import ChargeReturns
from proctor.runtime.check_state import Check
from proctor.runtime.output_tree import output_tree
from proctor.runtime.outputs import review_output
from proctor.runtime.pipeline import begin_check, run_check, settle_check
from proctor.runtime.records import (
    AuditRecorder,
    audit_event,
    demotion_event,
    exchange_event,
    task_event,
)
from proctor.runtime.scanning import CascadeFactory, ContentGuard, OutputReview, StoredArgs
from proctor.storage.contracts import AuditStore, ProvenanceStore, StateStores
from proctor.storage.errors import StorageError
from proctor.storage.state import open_state_stores

if TYPE_CHECKING:
    # only for annotations: PyJWT and cryptography load with an `identity:` section (build.py);
    # the policy compiler (and pydantic with it) with the first policy set loaded
    from proctor.identity.exchange import IssuedDelegation, TokenExchangeRequest
    from proctor.policy import CompiledPolicySet
    from proctor.runtime.identity import IdentityService
    from proctor.telemetry import DecisionTracer  # with pydantic: built from a config

StageObserver = Callable[[str, float], None]


class Runtime:
    """One engine: check a call, decide, record."""

    def __init__(
        self,
        *,
        policies: CompiledPolicySet,
        registry: AgentRegistry | None = None,
        users: Mapping[str, User] | None = None,
        audit: AuditStore,
        clock: Clock = system_clock,
        ids: DecisionIds | None = None,
        default_agent: str | None = None,
        wait_for_audit: bool = False,
        identity: IdentityService | None = None,
        state: StateStores | None = None,
        approval_hook: Callable[[Approval], None] | None = None,
        tracer: DecisionTracer | None = None,
        scanners: CascadeFactory | None = None,
        provenance: ProvenanceStore | None = None,
        store_args: StoredArgs = StoredArgs.REDACTED,
    ) -> None:
        self._policies = policies
        # The parts: read-only (`Final`: mypy refuses a reassignment), read per check
        # without a property call.
        self.store_args: Final[StoredArgs] = store_args  # `audit.store_args`: redacted
        self.audit: Final[AuditStore] = audit
        self.recorder: Final = AuditRecorder(audit, wait=wait_for_audit)
        self.clock: Final[Clock] = clock
        self.new_id: Final[DecisionIds] = ids or DecisionIds(clock)  # time-ordered ids
        self.callers: Final = CallerResolver(
            registry or AgentRegistry(),
            users or {},
            default_agent=default_agent,
            identity=identity,
        )
        self.state: Final[StateStores] = state or open_state_stores(None)
        self.content: Final = ContentGuard(scanners, provenance=provenance)
        self.tracer: Final[DecisionTracer | None] = tracer  # None: no spans
        self.guardrails: Final = Guardrails(
            counters=self.state.counters,
            runs=self.state.runs,
            approvals=self.state.approvals,
            new_id=self.new_id,
            on_new_approval=approval_hook,
        )
        self.charge_returns: Final = ChargeReturns(self.guardrails.undo)  # unrecorded charges
        self.run_owners: Final = RunOwners(self.state.runs)  # a run belongs to its starter
        self.known_actions: Final = KnownActions()  # actions validated (the pipeline's cache)
        self._observe: StageObserver | None = None  # None costs nothing per check
        self._observe_one_in = 1
        self._checks = itertools.count()  # which checks are timed (next() is atomic)
        self._closers: list[Callable[[], None]] = []  # e.g. a bundle poller's stop

    # -- what is read through the parts ----------------------------------------------------

    @property
    def policies(self) -> CompiledPolicySet:
        return self._policies

    @property
    def registry(self) -> AgentRegistry:
        return self.callers.registry

    @property
    def users(self) -> Mapping[str, User]:
        return self.callers.users

    @property
    def default_agent(self) -> str | None:
        return self.callers.default_agent

    @property
    def identity(self) -> IdentityService | None:
        return self.callers.identity

    # -- what may change while running --------------------------------------------------------

    def replace_policies(self, policies: CompiledPolicySet) -> None:
        """Swap in a new compiled set; callers compile (and so validate) it first."""
        self._policies = policies

    def replace_registry(self, registry: AgentRegistry) -> None:
        """Swap in the agents after one was created, revoked or changed."""
        self.callers.replace_registry(registry)

    def observe_stages(self, observe: StageObserver | None, *, one_in: int = 1) -> None:
        """Report each stage's time of one check in ``one_in`` to ``observe`` (metrics).

        Timing every stage costs a check several microseconds; a sample of the
        checks gives the same distribution for a fraction of it.
        """
        if one_in < 1:
            raise ValueError("one_in must be at least 1")
        self._observe = observe
        self._observe_one_in = one_in

    def _stage_observer(self) -> StageObserver | None:
        """The observer for this check, if it is one of the timed ones."""
        observe = self._observe
        if observe is None or next(self._checks) % self._observe_one_in:
            return None
        return observe

    def close_with(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` when the runtime closes (a follower's or poller's stop)."""
        self._closers.append(stop)

    def lift_demotion(self, agent_id: str) -> None:
        """Forget a rule's demotion of ``agent_id`` in this process (an admin set its tier)."""
        self.callers.lift_demotion(agent_id)

    # -- the check ------------------------------------------------------------------------------

    def decide(self, call: CheckCall) -> Decision:
        """Decide and record one call (``runtime.pipeline``: named stages)."""
        observe = None if self._observe is None else self._stage_observer()  # no call when none
        check, decision = begin_check(self, call, observe)
        return settle_check(self, check, decision)

    def begin(self, call: CheckCall) -> tuple[Check, Decision]:
        """``decide`` in two steps: the policies' decision first, then ``settle`` it.

        The gateway decides on its event loop and settles on a thread only when
        ``pipeline.settling_waits`` says settling may wait on a store.
        """
        return begin_check(self, call, self._stage_observer())

    def settle(self, check: Check, decision: Decision) -> Decision:
        """Limits and approvals, demotion and the record of a ``begin``-ed check."""
        return settle_check(self, check, decision)

    def check(self, action: str, **fields: Unpack[CallFields]) -> Decision:
        """``decide`` with the call's fields as keyword arguments."""
        return run_check(self, CheckCall(action, **fields), self._stage_observer())

    # -- tool results (content scanning and provenance) ------------------------------------------

    def review_output(
        self, action: str, result: Any, **fields: Unpack[OutputFields]
    ) -> OutputReview:
        """Scan a tool's result under the `scan: output` sections; remember it as untrusted."""
        return review_output(self, OutputCall(action, result, **fields))

    def remember_task(
        self,
        run_id: str,
        content: Any,
        *,
        agent: str | None = None,
        user: str | None = None,
        credential: Mapping[str, str] | None = None,
    ) -> None:
        """What the user asked in run ``run_id``: values in it are never tainted in that run.

        Every task is an audit record naming ``agent``, ``user`` and the
        ``credential`` that sent it (the gateway checks first that the run is
        theirs), written before the values count as the user's: a store that
        fails raises and nothing is remembered.
        """
        now = self.clock()
        tree = output_tree(content)
        who = self.registry.get(agent) or agent if agent is not None else None
        event = task_event(
            self.new_id(now), now, run_id, who, user, tree, credential or {"kind": "in_process"}
        )
        self.audit.append(event, wait=True)
        self.content.remember_task(run_id, tree)

    # -- records other than decisions -------------------------------------------------------------

    def record(
        self,
        kind: str,
        *,
        action: str,
        effect: str,
        reason: str,
        agent: Agent | str | None,
        user: User | str | None,
        run_id: str | None = None,
        args: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        wait: bool = False,
    ) -> str:
        """Append one record of ``kind`` (``records.audit_event``) and return its id.

        An agent named by id is recorded with its registered role, tier and
        tags. ``wait``: return only once the record is stored (a store failure
        raises ``StorageError`` or ``AuditError``).
        """
        now = self.clock()
        event_id = self.new_id(now)
        if isinstance(agent, str):
            agent = self.registry.get(agent) or agent
        event = audit_event(
            kind,
            event_id,
            now,
            action=action,
            effect=effect,
            reason=reason,
            agent=agent,
            user=user,
            run_id=run_id,
            args=args if args is not None else {},
            extra=extra,
        )
        self.recorder.append(event, wait=wait)
        return event_id

    # -- delegation tokens (identity) -------------------------------------------------------------

    def exchange(
        self, request: TokenExchangeRequest, *, actor: str | None = None
    ) -> IssuedDelegation:
        """RFC 8693 token exchange; recorded as a ``token_exchange`` audit event.

        Raises ``ExchangeError`` (with its §2.2.2 wire form) when refused.
        """
        if self.identity is None:
            raise ProctorError(
                "token exchange needs an `identity:` section in the config",
                code=TOKEN_NOT_CONFIGURED,
            )
        at = self.clock()
        try:
            issued = self.identity.exchange(request, actor=actor, at=at)
        except ExchangeError as exc:
            self.recorder.append(exchange_event(self.new_id(at), at, request, actor, None, exc))
            raise
        except StorageError as exc:
            # e.g. a client assertion's use could not be recorded: no token, and the refusal
            # is recorded too when the trail can still be written
            failed = ExchangeError("temporarily_unavailable", exc.message, code=exc.code)
            self.recorder.append(exchange_event(self.new_id(at), at, request, actor, None, failed))
            raise
        self.recorder.append(exchange_event(self.new_id(at), at, request, actor, issued, None))
        return issued

    # -- tier rules ---------------------------------------------------------------------------

    def count_denial(
        self, policies: CompiledPolicySet, agent: Agent, now: datetime
    ) -> Demotion | None:
        """Count a denial against the `tiers:` rules; a demotion applies from the next check."""
        rules = policies.controls.tier_rules(agent)
        if not rules:
            return None
        try:
            demotion = count_denial(self.state.counters, rules, agent.id, agent.tier, now)
        except StorageError:
            return None  # the denial stands; a demotion missed for want of a store is not a deny
        if demotion is not None:
            self.callers.demote(agent.id, demotion.after)
        return demotion

    def record_demotion(self, demotion: Demotion, agent: Agent, at: datetime) -> None:
        """Write a store agent's new tier to the store and audit the change with its cause."""
        if self.identity is not None:
            with contextlib.suppress(StorageError):  # this process still applies it
                self.identity.set_stored_tier(agent.id, demotion.after.value)
        event = demotion_event(self.new_id(at), at, demotion, agent)
        # the demotion stands even unrecorded; a failing audit store denies the next call
        with contextlib.suppress(StorageError, AuditError):
            self.recorder.append(event)

    def close(self) -> None:
        for stop in self._closers:
            stop()
        self.audit.close()
        if self.tracer is not None:
            self.tracer.close()  # flushes spans still batched
        if self.identity is not None:
            self.identity.store.close()
        self.guardrails.close()
        self.charge_returns.close()  # what is still pending, while the state stores are open
        self.state.close()
        self.content.provenance.close()
