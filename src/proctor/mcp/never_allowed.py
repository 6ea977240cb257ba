"""Which tools a caller could never be allowed to call: those ``tools/list`` hides.

A tool is hidden only when no request could pass, whatever its arguments and
whenever it comes: its action is outside the caller's effective scopes, or an
applicable ``deny`` rule always matches it, or no applicable rule could allow
it and the defaults deny. A condition that reads only what is known when the
list is made (``tool.*``, ``context.tool.*``, ``agent.*``, ``action``) is evaluated then;
any other condition might hold, so the tool stays listed. Every call is
checked anyway, listed or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from proctor.identity.scopes import ScopeSet
from proctor.model.actions import parse_pattern
from proctor.model.decision import Effect
from proctor.model.request import Agent, CheckRequest
from proctor.policy import CompiledPolicySet
from proctor.policy.context import EvalContext
from proctor.policy.expr import EvaluationError
from proctor.policy.rules import CompiledPolicy, CompiledRule

_KNOWN_PREFIXES = ("context.tool.", "tool.", "agent.")


def could_be_allowed(
    policies: CompiledPolicySet,
    action: str,
    agent: Agent,
    scopes: ScopeSet,
    context: Mapping[str, Any],
    now: datetime,
) -> bool:
    """False when every call of ``action`` by ``agent`` holding ``scopes`` is denied.

    ``context`` is the check's context as far as it is known without a call
    (the tool's annotations).
    """
    if not scopes.allows(action) or not policies.policies:
        return False
    held = scopes.to_strings()
    known = EvalContext(
        CheckRequest(action, agent, now, context=context, effective_scopes=held),
        policies.timezone,
    )
    may_allow = False
    for rule in policies.candidate_rules(action):
        policy = rule.policy
        if policy.audit_mode or not _selects(policy, rule, agent):
            continue
        if rule.required_scopes and not _holds(held, rule):
            continue
        matches = _may_match(rule, known)
        if matches is False:
            continue
        if rule.effect is Effect.DENY:
            if matches is True:
                return False  # deny overrides, and this one always matches
        else:
            may_allow = True
    if may_allow:
        return True
    enforced = [p for p in policies.policies if not p.audit_mode and _applies(p, agent)]
    if not enforced:  # only audit-mode policies (allow) or none at all (deny) apply
        return any(_applies(p, agent) for p in policies.policies)
    return all(p.default is Effect.ALLOW for p in enforced)


def _may_match(rule: CompiledRule, known: EvalContext) -> bool | None:
    """True or False when the conditions can be decided now; None when a call may tell."""
    undecided = False
    for condition in rule.conditions:
        if not all(_known_now(path) for path in condition.paths):
            undecided = True
            continue
        try:
            if not condition.test(known):
                return False
        except EvaluationError:
            return False  # a rule whose condition cannot be evaluated does not match
    return None if undecided else True


def _known_now(path: str) -> bool:
    return path == "action" or path.startswith(_KNOWN_PREFIXES)


def _applies(policy: CompiledPolicy, agent: Agent) -> bool:
    return policy.selector is None or policy.selector.matches(agent)


def _selects(policy: CompiledPolicy, rule: CompiledRule, agent: Agent) -> bool:
    return _applies(policy, agent) and (rule.selector is None or rule.selector.matches(agent))


def _holds(held: tuple[str, ...], rule: CompiledRule) -> bool:
    patterns = [parse_pattern(scope) for scope in held]
    return all(any(scope.covers(need) for scope in patterns) for need in rule.required_scopes)
