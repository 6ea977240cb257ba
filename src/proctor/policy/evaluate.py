"""Evaluating a compiled policy set: one request in, one ``Decision`` out.

Combining (docs/policies.md, "Combining"): any matching ``deny`` wins, else any
``require_approval``, else any ``allow``, else the defaults of the policies that
apply (deny unless every one of them says allow). No policy means deny.
Policies in ``mode: audit`` never change the effect; what they would have
decided is kept in ``Decision.shadow``.

A condition that cannot be evaluated (a missing path, a value of the wrong
kind) never fails open: a ``deny`` or ``require_approval`` rule then applies
(code ``condition_error``), an ``allow`` rule does not match, and the error is
kept in the diagnostics. ``on_error: skip`` or ``on_error: deny`` on a rule
overrides that.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from proctor.errors import ProctorError
from proctor.model.actions import ActionPattern, parse_pattern
from proctor.model.decision import EFFECT_PRECEDENCE, Decision, Diagnostic, Effect, ShadowResult
from proctor.model.request import CheckRequest
from proctor.policy.arg_schemas import CompiledArgSchema
from proctor.policy.context import EvalContext
from proctor.policy.controls import ControlIndex
from proctor.policy.digest import policy_set_digest
from proctor.policy.expr import EvaluationError
from proctor.policy.index import MEMO_LIMIT as PLAN_LIMIT
from proctor.policy.index import ActionIndex
from proctor.policy.plan import ActionPlan, error_reason, rule_reason
from proctor.policy.rules import CompiledPolicy, CompiledRule
from proctor.policy.scan_rules import ScanIndex
from proctor.policy.stamp import stamp

if TYPE_CHECKING:  # the compiler imports this module
    from proctor.policy.source import PolicySource

_ALLOW, _DENY = Effect.ALLOW, Effect.DENY


class CompiledPolicySet:
    """An immutable set of compiled policies; build it with ``policy.load_policies``."""

    __slots__ = (
        "_allow_by_default",
        "_audit_policies",
        "_denies_by_default",
        "_enforce_policies",
        "_holds",
        "_index",
        "_plans",
        "_schemas",
        "_selector_free",
        "controls",
        "digest",
        "policies",
        "rules",
        "scanning",
        "sources",
        "timezone",
        "warnings",
    )

    def __init__(
        self,
        policies: tuple[CompiledPolicy, ...],
        rules: tuple[CompiledRule, ...],
        timezone: tzinfo,
        controls: ControlIndex | None = None,
        scanning: ScanIndex | None = None,
        warnings: tuple[ProctorError, ...] = (),
        schemas: tuple[CompiledArgSchema, ...] = (),
        sources: tuple[PolicySource, ...] = (),
    ) -> None:
        self.policies = policies
        # the texts compiled, and their digest: the name of this set in records and the store
        self.sources = sources
        self.digest = policy_set_digest(source.text for source in sources)
        self.warnings = warnings  # located, for `proctor policy validate`; never block loading
        self.controls = controls or ControlIndex()
        self.scanning = scanning or ScanIndex()
        self.rules = rules
        self.timezone = timezone
        self._enforce_policies = tuple(p for p in policies if not p.audit_mode)
        self._audit_policies = tuple(p for p in policies if p.audit_mode)
        # no policy selects agents: every enforcing policy applies to every request
        self._selector_free = all(p.selector is None for p in policies)
        self._allow_by_default = all(p.default is _ALLOW for p in self._enforce_policies)
        # every enforcing policy applies to every request and one's default is deny
        self._denies_by_default = bool(
            self._selector_free and self._enforce_policies and not self._allow_by_default
        )
        self._plans: dict[str, ActionPlan] = {}
        self._index: ActionIndex[CompiledRule] = ActionIndex(
            (pattern, rule.order, rule) for rule in rules for pattern in _distinct(rule)
        )
        # the rules that hold a call (deny, approval) match an action in any case too
        self._holds: ActionIndex[CompiledRule] = ActionIndex(
            (
                (pattern, rule.order, rule)
                for rule in rules
                if rule.effect is not _ALLOW
                for pattern in _distinct(rule)
            ),
            fold=True,
        )
        # only policies that enforce check arguments; an audit-mode schema changes nothing;
        # a schema holds a call that does not fit, so it matches in any case
        self._schemas: ActionIndex[CompiledArgSchema] | None = (
            ActionIndex(
                (
                    (pattern, order, schema)
                    for order, schema in enumerate(schemas)
                    if not schema.policy.audit_mode
                    for pattern in dict.fromkeys(schema.patterns)
                ),
                fold=True,
            )
            if any(not schema.policy.audit_mode for schema in schemas)
            else None
        )

    @classmethod
    def empty(cls, timezone: tzinfo) -> CompiledPolicySet:
        return cls((), (), timezone)

    def __len__(self) -> int:
        return len(self.rules)

    def candidate_rules(self, action: str) -> tuple[CompiledRule, ...]:
        """The rules whose action patterns match ``action``, in document order."""
        return self._plan(action).rules

    def _plan(self, action: str) -> ActionPlan:
        plan = self._plans.get(action)
        if plan is None:
            rules = self._index.lookup(action)
            matched = {rule.order for rule in rules}
            held = [rule for rule in self._holds.lookup(action) if rule.order not in matched]
            if held:  # an action spelled in another case than a deny or approval rule
                rules = tuple(sorted((*rules, *held), key=lambda rule: rule.order))
            plan = ActionPlan(action, rules, plain=not self._audit_policies)
            if len(self._plans) >= PLAN_LIMIT:
                self._plans.clear()
            self._plans[action] = plan
        return plan

    def evaluate(self, request: CheckRequest) -> Decision:
        if self._schemas is not None and (refused := self._check_args(request)) is not None:
            return refused
        plan = self._plans.get(request.action) or self._plan(request.action)
        checks = plan.checks
        if checks is None:  # selectors, scopes or audit mode: the full loop
            return self._evaluate_each(request, plan)
        ctx: EvalContext | None = None
        hits: list[CompiledRule] = []
        first_unmet: CompiledRule | None = None  # the first non-deny rule that did not match
        try:
            for rule, test, allows in checks:
                if test is not None:
                    if ctx is None:
                        ctx = EvalContext(request, self.timezone)
                    if not test(ctx):
                        if allows and first_unmet is None:
                            first_unmet = rule
                        continue
                hits.append(rule)
        except EvaluationError:  # rare: the full loop applies each rule's `on_error`
            return self._evaluate_each(request, plan)
        if hits:
            key = hits[0] if len(hits) == 1 else tuple(hits)
            decided = plan.by_hits.get(key) or plan.decided(hits)
        elif self._denies_by_default:
            decided = plan.by_unmet.get(first_unmet) or plan.denied(first_unmet, ())
        else:
            return self._default(request, plan, first_unmet, ())
        if request.decision_id or request.effective_scopes:
            return stamp(decided, request)
        return decided  # neither an id nor scopes to stamp: the prototype is the decision

    def _evaluate_each(self, request: CheckRequest, plan: ActionPlan) -> Decision:
        """``evaluate`` rule by rule: selectors, scopes, audit mode and each condition error."""
        ctx: EvalContext | None = None
        hits: list[CompiledRule] = []
        first_unmet: CompiledRule | None = None  # the first non-deny rule that did not match
        # rare: built when first needed
        shadow_hits: list[CompiledRule] | None = None
        diagnostics: list[Diagnostic] | None = None
        failed: list[tuple[CompiledRule, str, Effect]] | None = None
        for rule, tests, gated, audit in plan.entries:
            if gated:
                admitted = _admits(rule, request)
                if admitted is None:
                    continue  # a selector leaves this agent out
                if not admitted:
                    if first_unmet is None and rule.effect is not _DENY:
                        first_unmet = rule
                    continue
            if tests:
                if ctx is None:
                    ctx = EvalContext(request, self.timezone)
                matched = False
                try:
                    for test in tests:
                        if not test(ctx):
                            break
                    else:
                        matched = True
                except EvaluationError as exc:
                    if diagnostics is None:
                        diagnostics = []
                    diagnostics.append(Diagnostic(exc.code, exc.message, rule.rule_id))
                    if rule.on_error == "skip":
                        pass  # did not match
                    elif audit:
                        if rule.on_error == "apply":
                            matched = True  # applied as if it matched
                    else:
                        effect = _DENY if rule.on_error == "deny" else rule.effect
                        failed = [*(failed or ()), (rule, exc.message, effect)]
                        continue
                if not matched:
                    if first_unmet is None and rule.effect is not _DENY:
                        first_unmet = rule
                    continue
            if not audit:
                hits.append(rule)
            elif shadow_hits is None:
                shadow_hits = [rule]
            else:
                shadow_hits.append(rule)

        diag = tuple(diagnostics) if diagnostics else ()
        decision = self._condition_error(request, hits, failed, diag) if failed else None
        if decision is not None:
            pass
        elif hits:  # the rules that matched decide
            decision = stamp(plan.decided(hits), request, diag)
        else:
            decision = self._default(request, plan, first_unmet, diag)
        if self._audit_policies:
            decision = self._with_shadow(request, decision, shadow_hits or [])
        return decision

    def _check_args(self, request: CheckRequest) -> Decision | None:
        """Deny a call whose arguments do not fit a schema of an enforcing policy that applies."""
        assert self._schemas is not None
        seen: set[int] = set()
        for schema in self._schemas.candidates(request.action):
            if id(schema) in seen or not _applies(schema.policy, request):
                continue
            seen.add(id(schema))
            problem = schema.problem(request.evaluated_args)
            if problem is not None:
                message = f"{problem} (argument schema of policy `{schema.policy.name}`)"
                return Decision(
                    _DENY,
                    f"invalid arguments for `{request.action}`: {message}",
                    (),
                    request.decision_id,
                    request.effective_scopes or (),
                    diagnostics=(Diagnostic("args_invalid", message),),
                    code="args_invalid",
                )
        return None

    def _condition_error(
        self,
        request: CheckRequest,
        hits: list[CompiledRule],
        failed: list[tuple[CompiledRule, str, Effect]],
        diag: tuple[Diagnostic, ...],
    ) -> Decision | None:
        """The decision of the rules whose condition could not be evaluated, unless a rule
        that matched cleanly has a stronger effect (None then)."""
        effect = max((e for _, _, e in failed), key=EFFECT_PRECEDENCE.__getitem__)
        strongest_hit = max(
            (rule.effect for rule in hits), key=EFFECT_PRECEDENCE.__getitem__, default=None
        )
        # a rule that matched cleanly decides over an unevaluable one of the same effect
        if (
            strongest_hit is not None
            and EFFECT_PRECEDENCE[effect] <= EFFECT_PRECEDENCE[strongest_hit]
        ):
            return None
        failing = [(rule, message) for rule, message, e in failed if e is effect]
        return Decision(
            effect,
            error_reason(*failing[0], effect, request.action),
            tuple(rule.rule_id for rule, _ in failing),
            request.decision_id,
            request.effective_scopes or (),
            diagnostics=diag,
            code="condition_error",
        )

    def _default(
        self,
        request: CheckRequest,
        plan: ActionPlan,
        first_unmet: CompiledRule | None,
        diag: tuple[Diagnostic, ...],
    ) -> Decision:
        scopes = request.effective_scopes or ()
        if not self.policies:
            return Decision(
                _DENY,
                "no policy is loaded; every call is denied",
                (),
                request.decision_id,
                scopes,
                diagnostics=diag,
                code="no_policy",
            )
        # without agent selectors, every enforcing policy applies: a default that is not all
        # allow denies without looking at each policy
        if not self._denies_by_default:
            applicable = [p for p in self._enforce_policies if _applies(p, request)]
            if not applicable:
                if any(_applies(p, request) for p in self._audit_policies):
                    return Decision(
                        _ALLOW,
                        "allowed: only policies in audit mode apply to this agent",
                        (),
                        request.decision_id,
                        scopes,
                        diagnostics=diag,
                        code="audit_mode",
                    )
                agent = request.agent
                return Decision(
                    _DENY,
                    f"no policy applies to agent `{agent.id}` "
                    f"(role `{agent.role}`, tier `{agent.tier}`)",
                    (),
                    request.decision_id,
                    scopes,
                    diagnostics=diag,
                    code="no_applicable_policy",
                )
            if all(p.default is _ALLOW for p in applicable):
                names = ", ".join(f"`{p.name}`" for p in applicable)
                return Decision(
                    _ALLOW,
                    f"no rule matches `{request.action}`; allowed by the default of {names}",
                    (),
                    request.decision_id,
                    scopes,
                    diagnostics=diag,
                    code="default",
                )
        return stamp(plan.denied(first_unmet, diag), request, diag)

    def _with_shadow(
        self, request: CheckRequest, decision: Decision, shadow_hits: list[CompiledRule]
    ) -> Decision:
        if shadow_hits:
            effect = max((rule.effect for rule in shadow_hits), key=EFFECT_PRECEDENCE.__getitem__)
            deciding = [rule for rule in shadow_hits if rule.effect is effect]
            reason = rule_reason(deciding[0], request.action)
            ids = tuple(rule.rule_id for rule in deciding)
        else:
            applicable = [p for p in self._audit_policies if _applies(p, request)]
            if not applicable or all(p.default is _ALLOW for p in applicable):
                return decision
            effect, ids = _DENY, ()
            reason = (
                f"no rule of an audit-mode policy matches `{request.action}`; the default is deny"
            )
        if EFFECT_PRECEDENCE[effect] <= EFFECT_PRECEDENCE[decision.effect]:
            return decision
        return Decision(
            decision.effect,
            decision.reason,
            decision.rule_ids,
            decision.decision_id,
            decision.effective_scopes,
            decision.obligations,
            decision.findings,
            decision.diagnostics,
            ShadowResult(effect, ids, reason),
            decision.code,
        )


def _distinct(rule: CompiledRule) -> list[ActionPattern]:
    """The rule's patterns less those another of them covers, so it is a candidate once."""
    if len(rule.patterns) == 1:
        return list(rule.patterns)
    unique = list(dict.fromkeys(rule.patterns))
    return [p for p in unique if not any(o != p and o.covers(p) for o in unique)]


def _applies(policy: CompiledPolicy, request: CheckRequest) -> bool:
    return policy.selector is None or policy.selector.matches(request.agent)


def _admits(rule: CompiledRule, request: CheckRequest) -> bool | None:
    """None when a selector leaves the agent out, False when scopes the rule requires are
    not held, True when the rule may be evaluated."""
    agent = request.agent
    policy = rule.policy
    if policy.selector is not None and not policy.selector.matches(agent):
        return None
    if rule.selector is not None and not rule.selector.matches(agent):
        return None
    return not rule.required_scopes or _holds(request.effective_scopes, rule)


def _holds(effective_scopes: tuple[str, ...] | None, rule: CompiledRule) -> bool:
    if effective_scopes is None:
        return False
    held = [parse_pattern(scope) for scope in effective_scopes]
    return all(any(scope.covers(need) for scope in held) for need in rule.required_scopes)
