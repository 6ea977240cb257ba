"""``Runtime``: one engine over the wired parts, the face every placement calls.

The SDK, the gateway and the MCP proxy all call ``Runtime.decide`` (or its
keyword form ``check``), so the same request gets the same decision and the
same audit record shape. The check itself is ``runtime.pipeline``; the parts
(policies, callers, scanners, limits, audit) are built by ``runtime.build``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Unpack

from proctor.audit.errors import AuditError
from proctor.clock import Clock, DecisionIds, system_clock
from proctor.errors import ProctorError
from proctor.identity.exchange import IssuedDelegation, TokenExchangeRequest
from proctor.identity.registry import AgentRegistry
from proctor.limits.approvals import Approval
from proctor.limits.demotions import Demotion, count_denial
from proctor.limits.gate import Guardrails
from proctor.limits.run_owners import RUN_NOT_OWNED, RunOwners
from proctor.model.audit_event import AuditEvent
from proctor.model.decision import Decision
from proctor.model.request import Agent, RunState, User
from proctor.policy import CompiledPolicySet
from proctor.runtime.call import AgentLike, CallFields, CheckCall, UserLike
from proctor.runtime.callers import CallerResolver
from proctor.runtime.content import (
    CascadeFactory,
    ContentGuard,
    OutputReview,
    StoredArgs,
    output_tree,
)
from proctor.runtime.identity import TOKEN_NOT_CONFIGURED, IdentityService
from proctor.runtime.outputs import OutputCall, review_output
from proctor.runtime.pipeline import run_check
from proctor.runtime.records import AuditRecorder, agent_view, iso, task_event
from proctor.scanners.provenance import ProvenanceStore
from proctor.storage.errors import StorageError
from proctor.storage.protocols import AuditStore
from proctor.storage.state import StateStores, open_state_stores
from proctor.telemetry import DecisionTracer

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
        self._store_args = store_args
        self._audit = audit
        self._recorder = AuditRecorder(audit, wait=wait_for_audit)
        self._clock = clock
        self._ids = ids or DecisionIds(clock)
        self._callers = CallerResolver(
            registry or AgentRegistry(),
            users or {},
            default_agent=default_agent,
            identity=identity,
        )
        self._state = state or open_state_stores(None)
        self._content = ContentGuard(scanners, provenance=provenance)
        self._tracer = tracer  # None: no spans (docs/observability.md)
        self._observe: StageObserver | None = None  # None costs nothing per check
        self._guardrails = Guardrails(
            counters=self._state.counters,
            runs=self._state.runs,
            approvals=self._state.approvals,
            new_id=self._ids,
            on_new_approval=approval_hook,
        )
        self._run_owners = RunOwners(self._state.runs)  # a run belongs to whoever started it
        self.valid_actions: set[str] = set()  # actions already validated (the pipeline's cache)

    # -- the parts, read-only ---------------------------------------------------------------

    @property
    def policies(self) -> CompiledPolicySet:
        return self._policies

    @property
    def callers(self) -> CallerResolver:
        return self._callers

    @property
    def registry(self) -> AgentRegistry:
        return self._callers.registry

    @property
    def users(self) -> Mapping[str, User]:
        return self._callers.users

    @property
    def default_agent(self) -> str | None:
        return self._callers.default_agent

    @property
    def identity(self) -> IdentityService | None:
        return self._callers.identity

    @property
    def audit(self) -> AuditStore:
        return self._audit

    @property
    def recorder(self) -> AuditRecorder:
        return self._recorder

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def state(self) -> StateStores:
        return self._state

    @property
    def store_args(self) -> StoredArgs:
        """How decision records keep arguments (``audit.store_args``; redacted by default)."""
        return self._store_args

    @property
    def content(self) -> ContentGuard:
        return self._content

    @property
    def guardrails(self) -> Guardrails:
        return self._guardrails

    @property
    def run_owners(self) -> RunOwners:
        return self._run_owners

    @property
    def tracer(self) -> DecisionTracer | None:
        return self._tracer

    def new_id(self, at: datetime) -> str:
        """A decision id (time-ordered) for a record made at ``at``."""
        return self._ids(at)

    # -- what may change while running --------------------------------------------------------

    def replace_policies(self, policies: CompiledPolicySet) -> None:
        """Swap in a new compiled set; callers compile (and so validate) it first."""
        self._policies = policies

    def replace_registry(self, registry: AgentRegistry) -> None:
        """Swap in the agents after one was created, revoked or changed."""
        self._callers.replace_registry(registry)

    def observe_stages(self, observe: StageObserver | None) -> None:
        """Report each check stage's time to ``observe`` (the gateway's metrics)."""
        self._observe = observe

    def lift_demotion(self, agent_id: str) -> None:
        """Forget a rule's demotion of ``agent_id`` in this process (an admin set its tier)."""
        self._callers.lift_demotion(agent_id)

    # -- the check ------------------------------------------------------------------------------

    def decide(self, call: CheckCall) -> Decision:
        """Decide and record one call (``runtime.pipeline``: named stages)."""
        return run_check(self, call, self._observe)

    def check(self, action: str, **fields: Unpack[CallFields]) -> Decision:
        """``decide`` with the call's fields as keyword arguments."""
        return run_check(self, CheckCall(action, **fields), self._observe)

    # -- tool results (content scanning and provenance) ------------------------------------------

    def review_output(
        self,
        action: str,
        result: Any,
        *,
        call_id: str | None = None,
        agent: AgentLike = None,
        user: UserLike = None,
        run: RunState | None = None,
        tool: str | None = None,
        trace_id: str | None = None,
        token: str | None = None,
        record: bool = False,
    ) -> OutputReview:
        """Scan a tool's result under the `scan: output` sections; remember it as untrusted."""
        call = OutputCall(action, result, call_id, agent, user, run, tool, trace_id, token, record)
        return review_output(self, call)

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
        now = self._clock()
        tree = output_tree(content)
        who = self.registry.get(agent) or agent if agent is not None else None
        event = task_event(
            self._ids(now), now, run_id, who, user, tree, credential or {"kind": "in_process"}
        )
        self._audit.append(event, wait=True)
        self._content.remember_task(run_id, tree)

    # -- runs -----------------------------------------------------------------------------------

    def run_refused(
        self,
        run: RunState,
        agent: Agent,
        user: User | None,
        now: datetime,
        delegators: tuple[str, ...] = (),
    ) -> tuple[str, str] | None:
        """(reason, code) when ``run`` belongs to another agent or user (the first to name it)."""
        sub = user.sub if user else None
        try:
            why = self._run_owners.claim(run.run_id, agent.id, sub, now, delegators=delegators)
        except StorageError as exc:
            return f"denied: {exc.message}", "state_unavailable"
        return None if why is None else (f"denied: {why}", RUN_NOT_OWNED)

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
        return self.identity.exchange(
            request, actor=actor, record=self._recorder.append, ids=self._ids
        )

    # -- tier rules ---------------------------------------------------------------------------

    def count_denial(
        self, policies: CompiledPolicySet, agent: Agent, now: datetime
    ) -> Demotion | None:
        """Count a denial against the `tiers:` rules; a demotion applies from the next check."""
        rules = policies.controls.tier_rules(agent)
        if not rules:
            return None
        try:
            demotion = count_denial(self._state.counters, rules, agent.id, agent.tier, now)
        except StorageError:
            return None  # the denial stands; a demotion missed for want of a store is not a deny
        if demotion is not None:
            self._callers.demote(agent.id, demotion.after)
        return demotion

    def record_demotion(self, demotion: Demotion, agent: Agent, at: datetime) -> None:
        """Write a store agent's new tier to the store and audit the change with its cause."""
        if self.identity is not None:
            with contextlib.suppress(StorageError):  # this process still applies it
                self.identity.set_stored_tier(agent.id, demotion.after.value)
        rule = demotion.rule
        event = AuditEvent(
            kind="tier_change",
            decision_id=self._ids(at),
            ts=iso(at),
            agent={**agent_view(agent), "tier": demotion.after.value},
            action="agent:demote",
            effect="allow",
            reason=(
                f"demoted by tier rule `{rule.rule_id}`: {demotion.denials} denials "
                f"within {rule.window_text}"
            ),
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
        # the demotion stands even unrecorded; a failing audit store denies the next call
        with contextlib.suppress(StorageError, AuditError):
            self._recorder.append(event)

    def close(self) -> None:
        self._audit.close()
        if self._tracer is not None:
            self._tracer.close()  # flushes spans still batched
        if self.identity is not None:
            self.identity.store.close()
        self._guardrails.close()
        self._state.close()
        self._content.provenance.close()
