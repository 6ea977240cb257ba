"""The plain form of an action plan decides as the full loop, rule by rule, does.

A set without agent selectors, required scopes or audit mode takes
``ActionPlan.checks``: each rule's conditions folded into one test, a
condition error handed to the full loop, and decisions stamped from a
prototype kept with the plan. Generated sets and requests (arguments missing
or of the wrong kind, so conditions fail) must get equal decisions, every
field compared, from the plain path and from ``_evaluate_each``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model.decision import Decision, Effect
from proctor.model.request import Agent, CheckRequest
from proctor.policy import load_policies
from proctor.policy.plan import COMBINATIONS_KEPT, ActionPlan
from tests.policy.test_indexed_evaluation import CONDITIONS, arguments

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
BOT = Agent("bot")
# few actions and patterns, so that several rules are candidates for most calls
ACTIONS = ("a:x", "a:y", "b:x")
rules = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["a:x", "a:*", "*", "*:x", "b:*"]),
        "effect": st.sampled_from(["allow", "deny", "require_approval"]),
    },
    optional={
        "when": st.sampled_from(CONDITIONS),
        "conditions": st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=3),
        "on_error": st.sampled_from(["deny", "skip"]),
    },
)
stamps = st.fixed_dictionaries(
    {},
    optional={
        "decision_id": st.sampled_from(["d-1", "d-2"]),
        "effective_scopes": st.sampled_from([(), ("read:*",)]),
    },
)


def _text(documents: list[dict[str, Any]], default: str) -> str:
    return yaml.safe_dump({"name": "p", "default": default, "rules": documents})


@given(
    st.lists(rules, min_size=1, max_size=8),
    st.sampled_from(["deny", "allow"]),
    st.lists(st.tuples(st.sampled_from(ACTIONS), arguments, stamps), min_size=1, max_size=6),
)
@settings(max_examples=300, deadline=None)
def test_the_plain_path_decides_as_the_full_loop(
    documents: list[dict[str, Any]],
    default: str,
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]],
) -> None:
    policies = load_policies(texts=[_text(documents, default)], timezone=UTC)
    for action, args, ids in calls:
        request = CheckRequest(action, BOT, NOW, args=args, **ids)
        plan = policies._plan(action)
        assert plan.checks is not None
        for _ in range(2):  # the second time from the plan's prototypes
            decision = policies.evaluate(request)
            assert decision == policies._evaluate_each(request, plan)
            assert decision.decision_id == request.decision_id


def test_selectors_scopes_and_audit_mode_take_the_full_loop() -> None:
    allow = "action: 'a:*', effect: allow"
    texts = {
        "a policy selector": f"name: p\napplies_to: {{roles: [ops]}}\nrules: [{{{allow}}}]",
        "a rule selector": f"name: p\nrules: [{{{allow}, applies_to: {{roles: [ops]}}}}]",
        "required scopes": f"name: p\nrules: [{{{allow}, scopes: ['a:*']}}]",
        "an audit-mode policy elsewhere": (
            "name: p\nrules: [{action: 'a:*', effect: allow}]\n---\n"
            "name: q\nmode: audit\nrules: [{action: 'b:*', effect: deny}]"
        ),
    }
    for why, text in texts.items():
        assert load_policies(texts=[text], timezone=UTC)._plan("a:x").checks is None, why
    plain = load_policies(texts=["name: p\nrules: [{action: 'a:*', effect: allow}]"])
    assert plain._plan("a:x").checks is not None


def test_a_request_without_id_or_scopes_gets_the_prototype_itself() -> None:
    policies = load_policies(texts=["name: p\nrules: [{id: r, action: 'a:*', effect: allow}]"])
    first = policies.evaluate(CheckRequest("a:x", BOT, NOW))
    assert policies.evaluate(CheckRequest("a:x", BOT, NOW)) is first
    stamped = policies.evaluate(CheckRequest("a:x", BOT, NOW, decision_id="d-9"))
    assert stamped is not first
    assert stamped == Decision(
        Effect.ALLOW, "allowed by rule `r` (a:*)", ("r",), "d-9", code="rule"
    )
    assert first.decision_id == ""  # stamping never writes into the prototype


def test_a_plan_keeps_a_bounded_number_of_combinations() -> None:
    rules_text = "\n".join(
        f"  - {{id: r{n}, action: 'a:x', effect: allow, when: 'args.n{n} == 1'}}" for n in range(8)
    )
    policies = load_policies(texts=[f"name: p\nrules:\n{rules_text}"])
    plan: ActionPlan = policies._plan("a:x")
    for mask in range(1, 256):
        args = {f"n{n}": 1 if mask >> n & 1 else 0 for n in range(8)}
        decision = policies.evaluate(CheckRequest("a:x", BOT, NOW, args=args))
        assert decision.rule_ids == tuple(f"r{n}" for n in range(8) if mask >> n & 1)
    combinations = [key for key in plan.by_hits if isinstance(key, tuple)]
    assert len(combinations) == COMBINATIONS_KEPT
    assert len(plan.by_hits) == COMBINATIONS_KEPT + 8


def test_a_default_deny_names_the_first_allowing_rule_that_did_not_match() -> None:
    text = (
        "name: p\nrules:\n"
        "  - {id: d, action: 'a:x', effect: deny, when: 'args.amount > 100'}\n"
        "  - {id: k, action: 'a:x', effect: allow, when: 'args.amount < 10'}\n"
    )
    policies = load_policies(texts=[text])
    request = CheckRequest("a:x", BOT, NOW, args={"amount": 50})
    decision = policies.evaluate(request)
    assert decision == policies._evaluate_each(request, policies._plan("a:x"))
    assert decision.reason == (
        "no rule allows `a:x` now: the conditions of rule `k` were not met (`args.amount < 10`)"
    )
