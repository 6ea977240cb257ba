"""Evaluation through the action index decides as a linear scan of every rule does.

Generated policies (exact and wildcard actions, every effect, conditions on
arguments that may be missing or of the wrong kind, `on_error`) and requests;
the reference evaluates the same compiled set with the index replaced by a
scan of all rules in document order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model.request import Agent, CheckRequest
from proctor.policy import CompiledPolicySet, load_policies
from proctor.policy.rules import CompiledRule
from tests.strategies import actions, patterns

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
CONDITIONS = (
    "args.amount <= 100",
    "args.amount > 50",
    'args.region in ["eu", "us"]',
    'args.tags contains "vip"',
    "time.hour >= 9 AND time.hour <= 17",
)


class _LinearScan:
    """Stands in for the action index: every rule, tested pattern by pattern."""

    def __init__(self, rules: tuple[CompiledRule, ...]) -> None:
        self._rules = rules

    def lookup(self, action: str) -> tuple[CompiledRule, ...]:
        return tuple(r for r in self._rules if any(p.matches(action) for p in r.patterns))


rules = st.fixed_dictionaries(
    {
        "action": patterns(),
        "effect": st.sampled_from(["allow", "deny", "require_approval"]),
    },
    optional={
        "when": st.sampled_from(CONDITIONS),
        "on_error": st.sampled_from(["deny", "skip"]),
    },
)
arguments = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.one_of(st.integers(-10, 300), st.text(max_size=3), st.none()),
        "region": st.sampled_from(["eu", "us", "cn", 7]),
        "tags": st.lists(st.sampled_from(["vip", "new"]), max_size=2),
    },
)


def _decided(policies: CompiledPolicySet, request: CheckRequest) -> tuple[Any, ...]:
    decision = policies.evaluate(request)
    return (decision.effect, decision.rule_ids, decision.reason, decision.code,
            decision.diagnostics)  # fmt: skip


@given(
    st.lists(rules, min_size=1, max_size=12),
    st.sampled_from(["deny", "allow"]),
    st.lists(st.tuples(actions(), arguments), min_size=1, max_size=6),
)
@settings(max_examples=200, deadline=None)
def test_indexed_evaluation_equals_a_linear_scan(
    documents: list[dict[str, Any]], default: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    text = yaml.safe_dump({"name": "p", "default": default, "rules": documents})
    indexed = load_policies(texts=[text], timezone=UTC)
    linear = load_policies(texts=[text], timezone=UTC)
    linear._index = _LinearScan(linear.rules)  # type: ignore[assignment]
    for action, args in calls:
        request = CheckRequest(action, Agent("bot"), NOW, args=args)
        assert _decided(indexed, request) == _decided(linear, request)
