"""The evaluator decides as a plain reading of docs/policies.md does.

The reference below scans every rule in document order, tests its patterns,
selectors, scopes and conditions one by one and combines the results as the
docs say (deny over approval over allow; an unevaluable condition applies its
rule's effect unless `on_error` says otherwise; audit-mode policies only shadow).
Generated policy sets (several documents, audit mode, selectors on policies and
rules, required scopes, conditions that may fail on missing or mistyped
arguments, time windows, membership) and requests must get the same effect,
rule ids, code, reason, diagnostics and shadow from both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model.actions import parse_pattern
from proctor.model.decision import EFFECT_PRECEDENCE, Decision, Diagnostic, Effect
from proctor.model.request import Agent, CheckRequest
from proctor.policy import CompiledPolicySet, load_policies
from proctor.policy.context import EvalContext
from proctor.policy.expr import EvaluationError
from proctor.policy.plan import no_rule_reason, rule_reason
from proctor.policy.rules import CompiledPolicy, CompiledRule

CONDITIONS = (
    "args.amount <= 100",
    "args.amount > 50",
    'args.region in ["eu", "us"]',
    'args.region not in ["cn"]',
    '"vip" in args.tags',
    'args.tags contains "vip"',
    '"new" not in args.tags',
    "time.hour >= 9 AND time.hour <= 17",
    "time.weekday <= 5 OR args.amount < 10",
)
ACTIONS = ("read:orders", "read:orders:1", "write:email", "refund:order", "delete:file:2")
PATTERNS = ("read:*", "read:orders", "*:email", "write:*", "refund:order", "*", "delete:*:2")

selectors = st.one_of(
    st.fixed_dictionaries({"roles": st.lists(st.sampled_from(["ops", "sales"]), min_size=1)}),
    st.fixed_dictionaries({"agents": st.just(["bot"])}),
)
rule_specs = st.fixed_dictionaries(
    {
        "action": st.sampled_from(PATTERNS),
        "effect": st.sampled_from(["allow", "deny", "require_approval"]),
        "conditions": st.lists(st.sampled_from(CONDITIONS), max_size=2),
    },
    optional={
        "when": st.sampled_from(CONDITIONS),
        "on_error": st.sampled_from(["deny", "skip"]),
        "applies_to": selectors,
        "scopes": st.lists(st.sampled_from(["read:*", "write:email"]), min_size=1, max_size=1),
        "reason": st.just("a reason of its own"),
    },
)
documents = st.fixed_dictionaries(
    {
        "default": st.sampled_from(["deny", "allow"]),
        "mode": st.sampled_from(["enforce", "enforce", "audit"]),
        "rules": st.lists(rule_specs, max_size=8),
    },
    optional={"applies_to": selectors},
)
arguments = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.one_of(st.integers(-10, 300), st.text(max_size=2), st.none()),
        "region": st.sampled_from(["eu", "us", "cn", 7]),
        "tags": st.one_of(
            st.lists(st.sampled_from(["vip", "new", "old"]), max_size=3),
            st.just(["vip", 3]),
            st.just("vip"),
        ),
    },
)
requests = st.tuples(
    st.sampled_from(ACTIONS),
    arguments,
    st.sampled_from([None, "ops", "sales"]),
    st.sampled_from([None, ("read:*",), ("write:email", "read:orders")]),
    st.integers(0, 23),
)


@given(st.lists(documents, max_size=3), st.lists(requests, min_size=1, max_size=6))
@settings(max_examples=300, deadline=None)
def test_evaluation_equals_the_reference(
    docs: list[dict[str, Any]], calls: list[tuple[Any, ...]]
) -> None:
    texts = [json.dumps({"name": f"p{n}", **doc}) for n, doc in enumerate(docs)]  # json is yaml
    policies = load_policies(texts=texts, timezone=UTC)
    for action, args, role, scopes, hour in calls:
        request = CheckRequest(
            action,
            Agent("bot", role=role),
            datetime(2026, 12, 7, hour, 30, tzinfo=UTC),
            args=args,
            effective_scopes=scopes,
        )
        expected = _reference(policies, request)
        for _ in range(2):  # the second time from the action's kept plan
            seen = _seen(policies.evaluate(request))
            if expected[3] is None:  # a reason the reference does not spell out
                seen = (*seen[:3], None, *seen[4:])
            assert seen == expected


def _seen(decision: Decision) -> tuple[Any, ...]:
    shadow = decision.shadow
    return (
        decision.effect,
        decision.rule_ids,
        decision.code,
        decision.reason,
        tuple((d.code, d.message, d.rule_id) for d in decision.diagnostics),
        None if shadow is None else (shadow.effect, shadow.rule_ids),
    )


def _reference(policies: CompiledPolicySet, request: CheckRequest) -> tuple[Any, ...]:
    ctx = EvalContext(request, policies.timezone)
    hits: list[CompiledRule] = []
    shadow: list[CompiledRule] = []
    unmet: list[CompiledRule] = []
    failed: list[tuple[CompiledRule, Effect]] = []
    diagnostics: list[tuple[str, str, str | None]] = []
    for rule in policies.rules:
        audit = rule.policy.audit_mode
        if not any(pattern.matches(request.action) for pattern in rule.patterns):
            continue
        selectors = (rule.policy.selector, rule.selector)
        if not all(s is None or s.matches(request.agent) for s in selectors):
            continue
        held = [parse_pattern(scope) for scope in request.effective_scopes or ()]
        if rule.required_scopes and (
            request.effective_scopes is None
            or not all(any(h.covers(need) for h in held) for need in rule.required_scopes)
        ):
            unmet.append(rule)
            continue
        try:
            met = all(condition.test(ctx) for condition in rule.conditions)
        except EvaluationError as exc:
            diagnostics.append((exc.code, exc.message, rule.rule_id))
            if rule.on_error == "skip" or (audit and rule.on_error == "deny"):
                unmet.append(rule)
            elif audit:
                shadow.append(rule)
            else:
                failed.append((rule, Effect.DENY if rule.on_error == "deny" else rule.effect))
            continue
        if not met:
            unmet.append(rule)
        else:
            (shadow if audit else hits).append(rule)
    effect, ids, code, reason = _combine(policies, request, hits, unmet, failed, diagnostics)
    return (
        effect,
        ids,
        code,
        reason,
        tuple(diagnostics),
        _shadow(policies, request, shadow, effect),
    )


def _strongest(effects: list[Effect]) -> Effect | None:
    return max(effects, key=EFFECT_PRECEDENCE.__getitem__, default=None)


def _combine(
    policies: CompiledPolicySet,
    request: CheckRequest,
    hits: list[CompiledRule],
    unmet: list[CompiledRule],
    failed: list[tuple[CompiledRule, Effect]],
    diagnostics: list[tuple[str, str, str | None]],
) -> tuple[Effect, tuple[str, ...], str, str | None]:
    hit = _strongest([rule.effect for rule in hits])
    broke = _strongest([effect for _, effect in failed])
    if broke is not None and (hit is None or EFFECT_PRECEDENCE[broke] > EFFECT_PRECEDENCE[hit]):
        ids = tuple(rule.rule_id for rule, effect in failed if effect is broke)
        return broke, ids, "condition_error", None  # reason: see test_fail_closed
    if hit is not None:
        deciding = [rule for rule in hits if rule.effect is hit]
        ids = tuple(rule.rule_id for rule in deciding)
        return hit, ids, "rule", rule_reason(deciding[0], request.action)
    if not policies.policies:
        return Effect.DENY, (), "no_policy", None
    applying = [p for p in policies.policies if _applies(p, request)]
    enforcing = [p for p in applying if not p.audit_mode]
    if not enforcing:
        if applying:
            return Effect.ALLOW, (), "audit_mode", None
        return Effect.DENY, (), "no_applicable_policy", None
    if all(p.default is Effect.ALLOW for p in enforcing):
        return Effect.ALLOW, (), "default", None
    first = next((rule for rule in unmet if rule.effect is not Effect.DENY), None)
    diag = tuple(Diagnostic(*item) for item in diagnostics)
    return Effect.DENY, (), "default", no_rule_reason(request.action, first, diag)


def _applies(policy: CompiledPolicy, request: CheckRequest) -> bool:
    return policy.selector is None or policy.selector.matches(request.agent)


def _shadow(
    policies: CompiledPolicySet, request: CheckRequest, shadow: list[CompiledRule], decided: Effect
) -> tuple[Effect, tuple[str, ...]] | None:
    audits = [p for p in policies.policies if p.audit_mode]
    if not audits:
        return None
    effect = _strongest([rule.effect for rule in shadow])
    if effect is not None:
        ids = tuple(rule.rule_id for rule in shadow if rule.effect is effect)
    else:
        applying = [p for p in audits if _applies(p, request)]
        if not applying or all(p.default is Effect.ALLOW for p in applying):
            return None
        effect, ids = Effect.DENY, ()
    if EFFECT_PRECEDENCE[effect] <= EFFECT_PRECEDENCE[decided]:
        return None
    return effect, ids
