"""The composition root: policies, identity, audit store, clock and ids wired together.

Every placement (in-process SDK, gateway, MCP proxy) calls ``Runtime.check``,
so the same request gets the same decision and the same audit record shape.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from proctor.audit.canonical import digest
from proctor.audit.errors import AuditError
from proctor.clock import Clock, DecisionIds, system_clock
from proctor.config import LoadedConfig, ScanningConfig, load_config
from proctor.content_runtime import (
    PROVENANCE_UNAVAILABLE,
    CascadeFactory,
    ContentGuard,
    OutputReview,
    output_tree,
    withheld,
)
from proctor.errors import ProctorError
from proctor.identity.errors import TOKEN_UNKNOWN_ACTOR, TokenRejected
from proctor.identity.exchange import IssuedDelegation, TokenExchangeRequest
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet, effective_scopes
from proctor.identity_runtime import (
    TOKEN_NOT_CONFIGURED,
    HeldToken,
    IdentityService,
    build_identity,
)
from proctor.limits.approvals import Approval
from proctor.limits.demotions import Demotion, count_denial
from proctor.limits.gate import Guardrails
from proctor.limits.run_owners import RUN_MISMATCH, RUN_NOT_OWNED, RunOwners
from proctor.model.actions import validate_action
from proctor.model.arguments import (
    ArgumentsRejected,
    normalize_arguments,
    normalize_call_arguments,
)
from proctor.model.audit_event import AuditEvent
from proctor.model.decision import Decision, Effect
from proctor.model.limits import Controls
from proctor.model.request import Agent, CheckRequest, RunState, User
from proctor.model.tiers import Tier
from proctor.policy import CompiledPolicySet, load_policies
from proctor.policy.scan_rules import ScanVerdict
from proctor.runtime_records import AgentLike as AgentLike  # the SDK's type, re-exported
from proctor.runtime_records import (
    agent_view,
    decision_event,
    iso,
    output_event,
    task_event,
    with_content,
)
from proctor.scanners.provenance import ProvenanceStore, Source
from proctor.scanning.loading import build_cascade
from proctor.storage import open_audit_store
from proctor.storage.errors import StorageError
from proctor.storage.protocols import AuditStore
from proctor.storage.state import StateStores, open_provenance_store, open_state_stores
from proctor.telemetry import DecisionTracer, begin_trace, build_tracer, tool_name
from proctor.webhooks import approval_webhook

UserLike = User | str | Mapping[str, Any] | None
_SCOPE_CACHE_LIMIT = 4096


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
    ) -> None:
        self._policies = policies
        self.registry = registry or AgentRegistry()
        self.users: Mapping[str, User] = users or {}
        self.audit = audit
        self.clock = clock
        self._ids = ids or DecisionIds(clock)
        self.default_agent = default_agent
        self._wait_for_audit = wait_for_audit
        self.identity = identity
        if identity is not None:
            identity.registry = self.registry
        self._scope_cache: dict[tuple[tuple[str, ...] | None, str | None], ScopeSet] = {}
        self._valid_actions: set[str] = set()
        self._lock = threading.Lock()
        self.state = state or open_state_stores(None)
        self._demoted: dict[str, Tier] = {}  # tiers lowered by `tiers:` rules in this process
        self.content = ContentGuard(scanners, provenance=provenance)
        self.tracer = tracer  # None: no spans (docs/observability.md)
        # (stage, seconds) per check stage when set (the gateway's metrics); None costs nothing
        self.observe_stage: Callable[[str, float], None] | None = None
        self.run_owners = RunOwners(self.state.runs)  # a run belongs to whoever started it
        self.guardrails = Guardrails(
            counters=self.state.counters,
            runs=self.state.runs,
            approvals=self.state.approvals,
            new_id=self._ids,
            on_new_approval=approval_hook,
        )

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        config: LoadedConfig | str | Path,
        *,
        audit: str | AuditStore | None = None,
        extra_policies: tuple[str | Path, ...] = (),
        clock: Clock = system_clock,
        ids: DecisionIds | None = None,
        wait_for_audit: bool | None = None,
    ) -> Runtime:
        loaded = config if isinstance(config, LoadedConfig) else load_config(config)
        settings = loaded.config
        timezone = ZoneInfo(settings.timezone)
        policies = load_policies([*loaded.policy_paths, *extra_policies], timezone=timezone)
        roles = {name: ScopeSet.parse(role.scopes) for name, role in settings.roles.items()}
        agents = {
            spec.id: Agent(
                spec.id, spec.role, Tier.parse(spec.tier), frozenset(spec.tags), spec.owner
            )
            for spec in settings.agents
        }
        users = {
            sub: User(sub, tuple(spec.scopes), dict(spec.claims))
            for sub, spec in settings.users.items()
        }
        store = (
            audit
            if audit is not None and not isinstance(audit, str)
            else open_audit_store(
                audit or loaded.audit_location, durability=settings.storage.durability
            )
        )
        registry = AgentRegistry(agents, roles)
        # identity, counters, runs, approvals and provenance live beside a located audit
        state_at = audit if isinstance(audit, str) else None if audit else loaded.audit_location
        identity = build_identity(
            settings.identity, base=loaded.base, audit_location=state_at, clock=clock
        )
        if identity is not None:
            registry = identity.with_stored_agents(registry)
        return cls(
            policies=policies,
            registry=registry,
            identity=identity,
            users=users,
            audit=store,
            clock=clock,
            ids=ids,
            default_agent=settings.default_agent,
            wait_for_audit=(
                settings.storage.durability == "sync" if wait_for_audit is None else wait_for_audit
            ),
            state=open_state_stores(state_at),
            provenance=open_provenance_store(state_at),
            approval_hook=approval_webhook(settings.approvals),
            tracer=build_tracer(settings.telemetry),
            scanners=_configured_cascade(settings.scanning),
        )

    @property
    def policies(self) -> CompiledPolicySet:
        return self._policies

    def replace_policies(self, policies: CompiledPolicySet) -> None:
        """Swap in a new compiled set; callers compile (and so validate) it first."""
        self._policies = policies

    # -- the check --------------------------------------------------------------------

    def check(
        self,
        action: str,
        *,
        agent: AgentLike = None,
        user: UserLike = None,
        args: Mapping[str, Any] | None = None,
        resource: str | None = None,
        context: Mapping[str, Any] | None = None,
        run: RunState | None = None,
        trace_id: str | None = None,
        at: datetime | None = None,
        token: str | None = None,
        traceparent: str | None = None,
        refused: tuple[str, str] | None = None,
    ) -> Decision:
        """Decide and record one call.

        ``at`` evaluates the policies as of another time (what-if checks from
        the CLI); the record keeps the real time and notes ``evaluated_at``.
        ``traceparent`` (W3C) makes the decision's span a child of the caller's.
        ``refused`` (code, reason): a call its placement refuses before any
        policy (an MCP ``tools/call`` sent as a notification), recorded as a deny.
        """
        started = mark = perf_counter()
        timed = self.observe_stage is not None
        traced = None
        if self.tracer is not None or traceparent is not None or trace_id is not None:
            traced = begin_trace(self.tracer, traceparent, trace_id)
            trace_id = traced.trace_id if traced is not None else trace_id
        recorded_at = self.clock()
        now = at or recorded_at
        decision_id = self._ids(recorded_at)
        resolved_agent = self._resolve_agent(agent)
        resolved_user = self._resolve_user(user)
        held: HeldToken | None = None
        rejected: TokenRejected | None = None
        if token is not None:
            try:
                held, resolved_agent = self._hold_token(token, agent, recorded_at)
                resolved_user = held.user
                run = _token_run(held, run)
            except TokenRejected as exc:
                rejected = exc
        recorded_args: dict[str, Any] = {}
        exact_args: dict[str, Any] | None = None  # exact numbers kept, for conditions
        taint: dict[str, dict[str, Any]] = {}
        scopes: ScopeSet | None = None
        decision: Decision | None = None
        if rejected is not None:
            decision = _deny(decision_id, f"token rejected: {rejected.message}", rejected.code)
        elif isinstance(resolved_agent, str):
            decision = _deny(decision_id, resolved_agent, "unknown_agent")
        elif action not in self._valid_actions and (problem := self._validate(action)) is not None:
            decision = _deny(decision_id, f"invalid action: {problem}", "invalid_request")
        else:
            try:
                recorded_args, exact_args = normalize_call_arguments(args)
                context_values = normalize_arguments(context) if context else {}
            except ArgumentsRejected as exc:
                decision = _deny(decision_id, f"invalid arguments: {exc}", "invalid_request")
        if decision is None and refused is not None:
            decision = _deny(decision_id, refused[1], refused[0])
        if decision is None and run is not None:
            decision = self._run_refused(decision_id, run, resolved_agent, resolved_user, now, held)
        if decision is None:
            assert isinstance(resolved_agent, Agent)
            scopes = self._effective_scopes(resolved_user, resolved_agent)
            if not scopes.allows(action):
                decision = _deny(
                    decision_id,
                    _scope_reason(action, scopes, resolved_user, resolved_agent, self.registry),
                    "scope_missing",
                    scopes.to_strings(),
                )
            else:
                if timed:
                    mark = self._lap("identity", mark)
                scan_plan = self._policies.scanning.plan("input", action, resolved_agent)
                scanned = (
                    self.content.scan(scan_plan, recorded_args) if scan_plan is not None else None
                )
                try:
                    taint = self.content.taint(run.run_id if run else None, recorded_args)
                except StorageError as exc:  # unknown taint: fail closed
                    decision = _deny(
                        decision_id,
                        f"the run's provenance could not be read: {exc.message}",
                        PROVENANCE_UNAVAILABLE,
                    )
            if decision is None:
                request = CheckRequest(
                    action=action,
                    agent=resolved_agent,
                    now=now,
                    user=resolved_user,
                    args=recorded_args,
                    resource=resource,
                    context=context_values,
                    run=run,
                    effective_scopes=scopes.to_strings(),
                    decision_id=decision_id,
                    trace_id=trace_id,
                    findings=scanned.findings if scanned is not None else (),
                    taint=taint,
                    exact_args=exact_args,
                )
                if timed:
                    mark = self._lap("scanners", mark)
                decision = self._policies.evaluate(request)
                if scan_plan is not None and scanned is not None:
                    decision = self.content.judge_input(scan_plan, scanned, decision, recorded_args)
                if timed:
                    mark = self._lap("policy", mark)
                if decision.effect is not Effect.DENY:
                    decision = self._guard(request, decision)
                    if timed:
                        mark = self._lap("limits", mark)
        demotion: Demotion | None = None
        if (
            decision.effect is Effect.DENY
            and self._policies.controls.has_tier_rules
            and isinstance(resolved_agent, Agent)
            and decision.code not in ("state_unavailable", PROVENANCE_UNAVAILABLE)
        ):  # counted as of `now`, like limits (what-if checks with `at` included)
            demotion = self._count_denial(resolved_agent, now)
        latency_us = (perf_counter() - started) * 1e6
        event = decision_event(
            decision,
            recorded_at,
            at,
            action,
            resolved_agent,
            agent,
            resolved_user,
            recorded_args,
            resource,
            run,
            trace_id,
            latency_us,
            held,
        )
        if traced is not None and traced.caller_trace_id is not None:  # `trace_id` is the span's
            event = replace(event, extra={**event.extra, "caller_trace_id": traced.caller_trace_id})
        if decision.findings or taint:
            event = with_content(event, self.content, recorded_args, decision.findings, taint)
        if timed:
            mark = perf_counter()
        try:
            self.audit.append(event, wait=self._wait_for_audit)
        except (StorageError, AuditError) as exc:
            decision = unrecorded(decision, exc.message)
        else:
            if demotion is not None:
                self._record_demotion(demotion, resolved_agent, recorded_at)
        if timed:
            self._lap("audit", mark)
        if traced is not None:
            sub = resolved_user.sub if resolved_user is not None else None
            traced.finish(decision, action, event.agent.get("id"), sub, tool_name(context))
        return decision

    def _lap(self, stage: str, since: float) -> float:
        """Report the time since ``since`` as ``stage``'s; now is the next stage's start."""
        now = perf_counter()
        assert self.observe_stage is not None
        self.observe_stage(stage, now - since)
        return now

    # -- tool results (content scanning and provenance) -----------------------------------

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
        """Scan a tool's result under the `scan: output` sections; remember it as untrusted.

        The result's candidate values enter the run's provenance ledger, so a later
        call that carries one is tainted. A record (kind ``output``: result digest,
        findings, never the result) is written when a section applies or ``record``
        is set; a record that cannot be written withholds the result.
        """
        recorded_at = self.clock()
        review_id = self._ids(recorded_at)
        resolved = self._resolve_agent(agent)
        held: HeldToken | None = None
        if token is not None:
            try:
                held, resolved = self._hold_token(token, agent, recorded_at)
                run = _token_run(held, run)
            except TokenRejected as exc:
                return withheld(review_id, f"withheld: token rejected: {exc.message}", exc.code)
            user = held.user
        if isinstance(resolved, str):
            return withheld(review_id, f"withheld: {resolved}", "unknown_agent")
        asker = self._resolve_user(user)
        if run is not None:
            refused = self._run_refused(review_id, run, resolved, asker, recorded_at, held)
            if refused is not None:
                return withheld(review_id, f"withheld: {refused.reason}", refused.code)
        tree = output_tree(result)
        plan = self._policies.scanning.plan("output", action, resolved)
        scanned = self.content.scan(plan, tree) if plan is not None else None
        if scanned is not None and scanned.error is not None:
            return withheld(
                review_id,
                f"withheld: the scanners this result needs could not run ({scanned.error})",
                "scan_unavailable",
            )
        verdict = (
            plan.verdict(scanned.findings, scanned.stages)
            if plan is not None and scanned is not None
            else None
        )
        forgotten: StorageError | None = None
        if run is not None:
            try:
                self.content.remember_output(
                    run.run_id, tree, Source(tool or action, call_id or review_id, iso(recorded_at))
                )
            except StorageError as exc:  # unremembered values could later pass untainted
                forgotten = exc
        findings = scanned.findings if scanned is not None else ()
        review = self._output_verdict(
            action, result, tree, verdict, review_id, resolved, asker, run, recorded_at
        )
        if forgotten is not None:
            review = withheld(
                review_id,
                f"withheld: the run's provenance could not be recorded ({forgotten.message})",
                PROVENANCE_UNAVAILABLE,
            )
        review = replace(review, findings=findings)
        if plan is None and not record and not findings and forgotten is None:
            return review
        event = output_event(
            review,
            recorded_at,
            action,
            resolved,
            asker,
            run,
            trace_id,
            tree,
            call_id,
            tool,
        )
        try:
            self.audit.append(event, wait=self._wait_for_audit)
        except (StorageError, AuditError) as exc:
            return withheld(
                review_id,
                f"withheld: the audit store is unavailable, so no record could be written "
                f"({exc.message})",
                "audit_unavailable",
            )
        return review

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
            self._ids(now), now, run_id, who, user, tree, credential or {"kind": "in_process"}
        )
        self.audit.append(event, wait=True)
        self.content.remember_task(run_id, tree)

    def _output_verdict(
        self,
        action: str,
        result: Any,
        tree: Any,
        verdict: ScanVerdict | None,
        review_id: str,
        agent: Agent,
        user: User | None,
        run: RunState | None,
        now: datetime,
    ) -> OutputReview:
        if verdict is None or (verdict.effect is None and not verdict.redactions):
            return OutputReview(Effect.ALLOW, result, "nothing to act on", review_id=review_id)
        if verdict.effect is Effect.DENY:
            return withheld(
                review_id, verdict.reason, verdict.code or "scan_denied", verdict.rule_ids
            )
        value = self.content.redact_output(tree, verdict) if verdict.redactions else result
        if verdict.effect is None:
            return OutputReview(
                Effect.ALLOW,
                value,
                "redacted by policy",
                rule_ids=verdict.rule_ids,
                redacted=True,
                review_id=review_id,
                code="redacted",
            )
        # require_approval: bound to this action and this exact result, like a call
        asked = Decision(Effect.REQUIRE_APPROVAL, verdict.reason, verdict.rule_ids, review_id)
        request = CheckRequest(
            action=action,
            agent=agent,
            now=now,
            user=user,
            args={"result_digest": digest(tree)},
            run=run,
            decision_id=review_id,
        )
        try:
            decided = self.guardrails.apply(
                request, asked, Controls(), lambda: self._policies.controls.approval(())
            )
        except StorageError as exc:
            return withheld(review_id, f"withheld: {exc.message}", "state_unavailable")
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

    # -- delegation tokens (identity) ------------------------------------------------------

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
            request,
            actor=actor,
            record=lambda event: self.audit.append(event, wait=self._wait_for_audit),
            ids=self._ids,
        )

    def _hold_token(self, token: str, asked: AgentLike, now: datetime) -> tuple[HeldToken, Agent]:
        if self.identity is None:
            raise TokenRejected(
                "this runtime verifies no delegation tokens: add an `identity:` section",
                code=TOKEN_NOT_CONFIGURED,
            )
        held = self.identity.hold(token, asked, now.timestamp())
        found = self.registry.get(held.delegation.actor) or self.identity.agent(
            held.delegation.actor
        )
        if found is None:
            raise TokenRejected(
                f"agent `{held.delegation.actor}` of the token is not registered (or revoked)",
                code=TOKEN_UNKNOWN_ACTOR,
            )
        return held, found

    def _run_refused(
        self,
        decision_id: str,
        run: RunState,
        agent: Agent | str,
        user: User | None,
        now: datetime,
        held: HeldToken | None,
    ) -> Decision | None:
        """The deny for a call in a run another agent or user started (``run_owners``)."""
        if isinstance(agent, str):
            return None  # denied as an unknown agent already
        delegators = held.delegation.actors[1:] if held is not None else ()
        sub = user.sub if user else None
        try:
            why = self.run_owners.claim(run.run_id, agent.id, sub, now, delegators=delegators)
        except StorageError as exc:
            return _deny(decision_id, f"denied: {exc.message}", "state_unavailable")
        return None if why is None else _deny(decision_id, f"denied: {why}", RUN_NOT_OWNED)

    def close(self) -> None:
        self.audit.close()
        if self.tracer is not None:
            self.tracer.close()  # flushes spans still batched
        if self.identity is not None:
            self.identity.store.close()
        self.guardrails.close()
        self.state.close()
        self.content.provenance.close()

    def _guard(self, request: CheckRequest, decision: Decision) -> Decision:
        """Approvals, limits and run ceilings (``proctor.limits``); no store touched without."""
        controls = self._policies.controls
        if decision.effect is Effect.ALLOW and not (
            controls.has_limits or (controls.has_ceilings and request.run is not None)
        ):
            return decision
        try:
            return self.guardrails.apply(
                request,
                decision,
                controls.for_request(request),
                lambda: controls.approval(decision.rule_ids),
            )
        except StorageError as exc:
            return _deny(
                decision.decision_id,
                f"denied: the limits store is unavailable ({exc.message})",
                "state_unavailable",
                decision.effective_scopes,
            )

    def _count_denial(self, agent: Agent, now: datetime) -> Demotion | None:
        """Count a denial against the `tiers:` rules; a demotion applies from the next check."""
        rules = self._policies.controls.tier_rules(agent)
        if not rules:
            return None
        try:
            demotion = count_denial(self.state.counters, rules, agent.id, agent.tier, now)
        except StorageError:
            return None  # the denial stands; a demotion missed for want of a store is not a deny
        if demotion is not None:
            with self._lock:
                self._demoted[agent.id] = demotion.after
        return demotion

    def _record_demotion(self, demotion: Demotion, agent: Agent | str, at: datetime) -> None:
        """Write a store agent's new tier to the store and audit the change with its cause."""
        assert isinstance(agent, Agent)
        if self.identity is not None:
            with contextlib.suppress(StorageError):  # this process still applies it
                stored = self.identity.store.get_agent(agent.id)
                if stored is not None:
                    self.identity.store.put_agent(replace(stored, tier=demotion.after.value))
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
            self.audit.append(event, wait=self._wait_for_audit)

    def _validate(self, action: str) -> str | None:
        problem = validate_action(action)
        if problem is None:
            if len(self._valid_actions) >= _SCOPE_CACHE_LIMIT:
                self._valid_actions.clear()
            self._valid_actions.add(action)
        return problem

    # -- resolution ---------------------------------------------------------------------

    def _resolve_agent(self, agent: AgentLike) -> Agent | str:
        """The agent, or the reason it is unknown (a deny, never an error)."""
        if isinstance(agent, Agent):
            return self._demote(agent) if self._demoted else agent
        agent_id = agent if agent is not None else self.default_agent
        if agent_id is None:
            return "no agent was named and no default agent is configured"
        found = self.registry.get(agent_id)
        if found is None:
            return f"unknown agent `{agent_id}`: it is not registered"
        return self._demote(found) if self._demoted else found

    def lift_demotion(self, agent_id: str) -> None:
        """Forget a rule's demotion of ``agent_id`` in this process (an admin set its tier)."""
        with self._lock:
            self._demoted.pop(agent_id, None)

    def _demote(self, agent: Agent) -> Agent:
        """The agent at the tier a `tiers:` rule lowered it to (never raised back here)."""
        lowered = self._demoted.get(agent.id)
        if lowered is None or lowered.rank >= agent.tier.rank:
            return agent
        return replace(agent, tier=lowered)

    def _resolve_user(self, user: UserLike) -> User | None:
        if user is None or isinstance(user, User):
            return user
        if isinstance(user, str):
            return self.users.get(user, User(user))
        claims = {key: value for key, value in user.items() if key not in ("sub", "scopes")}
        return User(str(user.get("sub", "")), tuple(user.get("scopes", ())), claims)

    def _effective_scopes(self, user: User | None, agent: Agent) -> ScopeSet:
        key = (user.scopes if user is not None else None, agent.role)
        found = self._scope_cache.get(key)
        if found is None:
            user_scopes = ScopeSet.parse(user.scopes) if user is not None else None
            found = effective_scopes(user_scopes, self.registry.role_scopes(agent.role))
            with self._lock:
                if len(self._scope_cache) >= _SCOPE_CACHE_LIMIT:
                    self._scope_cache.clear()
                self._scope_cache[key] = found
        return found


def _configured_cascade(section: ScanningConfig | None) -> CascadeFactory | None:
    """The cascade of a `scanning:` section, built now so a bad section fails at start-up."""
    if section is None:
        return None
    options = {
        name: value
        for name, value in (("presidio", section.presidio), ("judge", section.judge))
        if value is not None
    }
    cascade = build_cascade(
        section.scanners,
        fail_mode=section.fail_mode,
        budget_ms=section.budget_ms,
        options=options,
    )
    return lambda: cascade


def _token_run(held: HeldToken, run: RunState | None) -> RunState | None:
    """A token issued for a run acts in that run only: another one named beside it is refused."""
    bound = held.delegation.run_id
    if bound is None:
        return run
    if run is not None and run.run_id != bound:
        raise TokenRejected(
            f"the token is bound to run `{bound}`, not `{run.run_id}`", code=RUN_MISMATCH
        )
    return run if run is not None else RunState(bound)


def unrecorded(decision: Decision, problem: str) -> Decision:
    """The deny that replaces ``decision`` when its audit record could not be written."""
    return Decision(
        Effect.DENY,
        f"denied: the audit store is unavailable, so no record could be written ({problem})",
        decision.rule_ids,
        decision.decision_id,
        decision.effective_scopes,
        diagnostics=decision.diagnostics,
        code="audit_unavailable",
    )


def _deny(decision_id: str, reason: str, code: str, scopes: tuple[str, ...] = ()) -> Decision:
    return Decision(Effect.DENY, reason, (), decision_id, scopes, code=code)


def _scope_reason(
    action: str, scopes: ScopeSet, user: User | None, agent: Agent, registry: AgentRegistry
) -> str:
    lacking: list[str] = []
    if user is not None and not ScopeSet.parse(user.scopes).allows(action):
        lacking.append(f"user `{user.sub}` holds no scope for it")
    role_scopes = registry.role_scopes(agent.role)
    if role_scopes is not None and not role_scopes.allows(action):
        lacking.append(f"role `{agent.role}` of agent `{agent.id}` grants no scope for it")
    why = " and ".join(lacking) or "the user's and the role's scopes do not overlap on it"
    return f"`{action}` is outside the effective scopes ({scopes}): {why}"
