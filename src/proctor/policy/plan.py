"""What evaluating one action needs, worked out once per action and kept.

``ActionPlan`` holds the rules an action's patterns select (from the action
index), each with what the evaluation loop reads of it, and the reasons a
decision on that action quotes, built the first time one is needed. A set keeps
a bounded number of plans, so an action repeated by many checks pays for its
lookup and its reason texts once.
"""

from __future__ import annotations

from typing import NamedTuple

from proctor.model.decision import Diagnostic, Effect
from proctor.policy.expr.compiled import Test
from proctor.policy.rules import CompiledRule

_ALLOW, _DENY, _APPROVAL = Effect.ALLOW, Effect.DENY, Effect.REQUIRE_APPROVAL


class PlannedRule(NamedTuple):
    """One candidate rule and what the loop reads of it, unpacked once."""

    rule: CompiledRule
    tests: tuple[Test, ...]  # the conditions' compiled tests, all of which must hold
    gated: bool  # a policy or rule selector, or required scopes, to check first
    audit: bool  # the rule's policy is in audit mode


class ActionPlan:
    """The candidate rules of one action, in document order, and its reason texts."""

    __slots__ = ("_reasons", "_unmet_reasons", "action", "entries", "rules")

    def __init__(self, action: str, rules: tuple[CompiledRule, ...]) -> None:
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
        self._reasons: dict[CompiledRule, str] = {}
        self._unmet_reasons: dict[CompiledRule, str] = {}

    def rule_reason(self, rule: CompiledRule) -> str:
        """The reason of a decision this rule made on the action."""
        reason = self._reasons.get(rule)
        if reason is None:
            reason = self._reasons[rule] = rule_reason(rule, self.action)
        return reason

    def no_rule_reason(self, first_unmet: CompiledRule | None, diag: tuple[Diagnostic, ...]) -> str:
        """The reason of a default deny; ``first_unmet`` is the first rule that did not
        match and is not a deny rule."""
        if diag or first_unmet is None:
            return no_rule_reason(self.action, first_unmet, diag)
        reason = self._unmet_reasons.get(first_unmet)
        if reason is None:
            reason = self._unmet_reasons[first_unmet] = no_rule_reason(
                self.action, first_unmet, diag
            )
        return reason


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
