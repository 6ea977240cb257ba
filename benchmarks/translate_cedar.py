"""The neutral benchmark rules as Cedar policies, and the cedarpy fast path.

Every rule becomes one ``permit`` (allow) or ``forbid`` (deny) over any
principal, action and resource, with the action string and the arguments in
the request context::

    @id("r12")
    forbid (principal, action, resource)
    when { context.action like "read:area_3:*" && context.amount > 500 };

Cedar's semantics match proctor's here: default deny, any satisfied
``forbid`` overrides every ``permit``. A proctor prefix glob ``p:*`` matches
one or more non-empty segments after ``p:``; Cedar's ``like "p:*"`` matches
any text after ``p:``, which is the same set for valid (non-empty-segment)
actions.

Fast path: the text is parsed once into a ``cedarpy.PolicySet`` handle and the
(empty) entity set once into a ``cedarpy.Entities`` handle; each decision is
one ``cedarpy.is_authorized(request, policy_set, entities)`` call with the
context passed as a dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from benchmarks.generate import BenchRequest, BenchRule, Condition

FAST_PATH = (
    "cedarpy.PolicySet.from_str once + cedarpy.Entities.from_json_str once; "
    "per decision is_authorized(request dict with context dict, policy_set, entities)"
)
PRINCIPAL = 'Agent::"bench-agent"'
ACTION = 'Action::"call"'
RESOURCE = 'Tool::"bench-tool"'


def cedar_condition(condition: Condition) -> str:
    value = condition.value
    if condition.kind == "amount":
        return f"context.amount {condition.op} {value}"
    if condition.kind == "hour":
        assert isinstance(value, tuple)
        return f"(context.hour >= {value[0]} && context.hour <= {value[1]})"
    if condition.kind == "region":
        assert isinstance(value, tuple)
        return f"[{', '.join(json.dumps(v) for v in value)}].contains(context.region)"
    return f"context.tags.contains({json.dumps(value)})"


def cedar_action_test(pattern: str) -> str:
    if pattern.endswith(":*"):
        return f"context.action like {json.dumps(pattern)}"
    return f"context.action == {json.dumps(pattern)}"


def to_cedar(rules: list[BenchRule]) -> str:
    policies = []
    for rule in rules:
        kind = "forbid" if rule.effect == "deny" else "permit"
        tests = [cedar_action_test(rule.action), *(cedar_condition(c) for c in rule.conditions)]
        policies.append(
            f'@id("{rule.rule_id}")\n{kind} (principal, action, resource)\n'
            f"when {{ {' && '.join(tests)} }};"
        )
    return "\n".join(policies) + "\n"


def cedar_request(request: BenchRequest) -> dict[str, Any]:
    return {
        "principal": PRINCIPAL,
        "action": ACTION,
        "resource": RESOURCE,
        "context": {
            "action": request.action,
            "amount": request.amount,
            "hour": request.hour,
            "region": request.region,
            "tags": list(request.tags),
        },
    }


class CedarEngine:
    """A policy set parsed once; ``decide(request dict)`` returns an ``AuthzResult``."""

    name = "cedarpy"
    fast_path = FAST_PATH

    def __init__(self, rules: list[BenchRule]) -> None:
        import cedarpy

        self.text = to_cedar(rules)
        started = time.perf_counter()  # the load from text, as each engine's is timed
        self.policy_set = cedarpy.PolicySet.from_str(self.text)
        self.entities = cedarpy.Entities.from_json_str("[]")
        self.load_seconds = time.perf_counter() - started
        self.decide: Callable[[dict[str, Any]], Any] = partial(
            cedarpy.is_authorized, policies=self.policy_set, entities=self.entities
        )
        self._batch = partial(
            cedarpy.is_authorized_batch, policies=self.policy_set, entities=self.entities
        )

    @staticmethod
    def prepare(request: BenchRequest) -> dict[str, Any]:
        return cedar_request(request)

    @staticmethod
    def allowed(result: Any) -> bool:
        return bool(result.allowed)

    def decide_batch(self, requests: list[dict[str, Any]]) -> list[Any]:
        return list(self._batch(requests))
