"""What evaluating one action needs, worked out once per action and kept.

``ActionPlan`` holds the rules an action's patterns select (from the action
index), each with what the evaluation loop reads of it, and prototypes of the
decisions made on that action (``stamp``), built the first time one is needed.
A set keeps a bounded number of plans, so an action repeated by many checks
pays for its lookup, its reason texts and its rule id tuples once.

``checks`` is the plain form of the plan, for the loop most checks take: no
rule behind an agent selector, required scopes or audit mode, and each rule's
conditions folded into one test.
"""

from __future__ import annotations

from typing import NamedTuple

from proctor.model.decision import Decision, Diagnostic, Effect
from proctor.policy.context import EvalContext
from proctor.policy.expr.compiled import Test
from proctor.policy.rules import CompiledRule

_ALLOW, _DENY, _APPROVAL = Effect.ALLOW, Effect.DENY, Effect.REQUIRE_APPROVAL
# decisions kept per plan for two or more matching rules: each such set of rules is a key
COMBINATIONS_KEPT = 16


class PlannedRule(NamedTuple):
    """One candidate rule and what the loop reads of it, unpacked once."""

    rule: CompiledRule
    tests: tuple[Test, ...]  # the conditions' compiled tests, all of which must hold
    gated: bool  # a policy or rule selector, or required scopes, to check first
    audit: bool  # the rule's policy is in audit mode


class PlainRule(NamedTuple):
    """One candidate rule of a plain plan (``ActionPlan.checks``)."""

    rule: CompiledRule
    test: Test | None  # every condition of the rule at once; None without conditions
    allows: bool  # not a deny rule: the first one that does not match explains a default


class ActionPlan:
    """The candidate rules of one action, in document order, and its decisions' prototypes."""

    __slots__ = ("_combinations", "action", "by_hits", "by_unmet", "checks", "entries", "rules")

    def __init__(self, action: str, rules: tuple[CompiledRule, ...], *, plain: bool = True) -> None:
        """``plain``: the set has no policy in audit mode (it may then have a plain form)."""
        self.action = action
        self.rules = rules
        self.entries = tuple(
            PlannedRule(
                rule,
                tuple(condition.test for condition in rule.conditions),
                rule.policy.selector is not None
                or rule.selector is not None
                or bool(rule.required_scopes),
                rule.policy.audit_mode,
            )
            for rule in rules
        )
        self.checks: tuple[PlainRule, ...] | None = None
        if plain and not any(entry.gated or entry.audit for entry in self.entries):
            self.checks = tuple(
                PlainRule(entry.rule, all_of(entry.tests), entry.rule.effect is not _DENY)
                for entry in self.entries
            )
        # the decision of the rules that matched (one rule, or a tuple of them) and of a
        # default deny (by the first allowing rule that did not match), as ``stamp`` takes it
        self.by_hits: dict[CompiledRule | tuple[CompiledRule, ...], Decision] = {}
        self.by_unmet: dict[CompiledRule | None, Decision] = {}
        self._combinations = 0

    def decided(self, hits: list[CompiledRule]) -> Decision:
        """The prototype of the decision made by ``hits``, the rules that matched."""
        key = hits[0] if len(hits) == 1 else tuple(hits)
        decision = self.by_hits.get(key)
        if decision is None:
            effect = strongest(hits)
            deciding = [rule for rule in hits if rule.effect is effect]
            decision = Decision(
                effect,
                rule_reason(deciding[0], self.action),
                tuple([rule.rule_id for rule in deciding]),
                code="rule",
            )
            if type(key) is not tuple:
                self.by_hits[key] = decision
            elif self._combinations < COMBINATIONS_KEPT:  # a bounded few per action
                self._combinations += 1
                self.by_hits[key] = decision
        return decision

    def denied(self, first_unmet: CompiledRule | None, diag: tuple[Diagnostic, ...]) -> Decision:
        """The prototype of a default deny; ``first_unmet`` is the first rule that did not
        match and is not a deny rule."""
        decision = None if diag else self.by_unmet.get(first_unmet)
        if decision is None:
            reason = no_rule_reason(self.action, first_unmet, diag)
            decision = Decision(_DENY, reason, code="default")
            if not diag:
                self.by_unmet[first_unmet] = decision
        return decision


def all_of(tests: tuple[Test, ...]) -> Test | None:
    """One test for all of ``tests`` (each true or false), in order; None for none."""
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests

        def both(ctx: EvalContext) -> bool:
            return first(ctx) and second(ctx)

        return both

    def every(ctx: EvalContext) -> bool:
        return all(test(ctx) for test in tests)

    return every


def strongest(rules: list[CompiledRule]) -> Effect:
    """The effect that wins among ``rules`` (not empty): deny, then approval, then allow."""
    effects = {rule.effect for rule in rules}
    if _DENY in effects:
        return _DENY
    return _APPROVAL if _APPROVAL in effects else _ALLOW


def rule_reason(rule: CompiledRule, action: str) -> str:
    if rule.reason:
        return rule.reason
    if rule.effect is _ALLOW:
        return f"allowed by rule `{rule.rule_id}` ({rule.action_text})"
    if rule.effect is _APPROVAL:
        return f"`{action}` needs a human approval (rule `{rule.rule_id}`)"
    return f"denied by rule `{rule.rule_id}` ({rule.action_text})"


def error_reason(rule: CompiledRule, message: str, effect: Effect, action: str) -> str:
    why = f"rule `{rule.rule_id}` could not evaluate its condition ({message})"
    if effect is _APPROVAL:
        return f"`{action}` needs a human approval: {why}, so its effect applies"
    if rule.effect is _DENY or rule.on_error == "apply":
        return f"denied: {why}, so its effect applies"
    return f"denied: {why}; it fails closed (on_error: deny)"


def no_rule_reason(
    action: str, first_unmet: CompiledRule | None, diag: tuple[Diagnostic, ...]
) -> str:
    """Why nothing allowed ``action``: the first allowing rule that did not match, else the
    first condition that could not be evaluated, else no rule at all."""
    if first_unmet is not None:
        rule = first_unmet
        if rule.required_scopes and not rule.conditions:
            needed = ", ".join(f"`{scope}`" for scope in rule.required_scopes)
            return f"no rule allows `{action}`: rule `{rule.rule_id}` requires the scopes {needed}"
        shown = " AND ".join(condition.source for condition in rule.conditions)
        problem = next((d.message for d in diag if d.rule_id == rule.rule_id), None)
        why = f"could not be evaluated ({problem})" if problem else "were not met"
        return (
            f"no rule allows `{action}` now: "
            f"the conditions of rule `{rule.rule_id}` {why} (`{shown}`)"
        )
    first = diag[0] if diag else None
    if first is not None:
        return (
            f"no rule allows `{action}`: the condition of rule `{first.rule_id}` "
            f"could not be evaluated ({first.message}); the default is deny"
        )
    return f"no rule matches `{action}`; the default is deny"
