"""Deny and approval rules never fail open: a property over the semantics corpus.

For every case of tests/cases/*.yaml that a rule with a condition denies or
holds, replacing an argument that condition reads with a value of another JSON
kind never turns the decision into an allow.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.model.decision import Effect
from proctor.policy import CompiledPolicySet
from proctor.sdk.policy_tests import _compile, _decide

CASES = Path(__file__).parent.parent / "cases"
_ARGUMENT = re.compile(r"args\.([A-Za-z_][A-Za-z0-9_]*)")

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_BY_KIND: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "number": st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    "text": st.text(max_size=30),
    "list": st.lists(_JSON, max_size=4),
    "map": st.dictionaries(st.text(max_size=8), _JSON, max_size=4),
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "map"


def _policies(spec: dict[str, Any], case: dict[str, Any], file: Path) -> CompiledPolicySet:
    own = "policy" in case or "policies" in case
    return _compile(case if own else spec, file.parent, "UTC")


def _held_cases() -> list[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """(id, file spec, case, argument) for each case a conditional deny/approval rule decides."""
    found = []
    for file in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(file.read_text())
        if not (spec.get("policy") or spec.get("policies")) and not any(
            "policy" in case for case in spec["cases"]
        ):
            continue
        for case in spec["cases"]:
            if "error" in str(case.get("expect", "")) or case.get("before"):
                continue
            policies = _policies(spec, case, file)
            decision = _decide(spec, case, policies)
            failed = {d.rule_id for d in decision.diagnostics}
            if decision.effect is Effect.ALLOW or failed & set(decision.rule_ids):
                continue  # attack only the rules that could evaluate the case as written
            by_id = {rule.rule_id: rule for rule in policies.rules}
            read = {
                match.group(1)
                for rule_id in decision.rule_ids
                if rule_id in by_id and by_id[rule_id].effect is not Effect.ALLOW
                for condition in by_id[rule_id].conditions
                for path in condition.paths
                if (match := _ARGUMENT.match(path))
            }
            for argument in sorted(read):
                found.append((f"{file.stem}: {case['name']}: {argument}", spec, case, argument))
    return found


HELD = _held_cases()


def test_the_corpus_has_held_cases_to_attack() -> None:
    assert len(HELD) >= 8


@pytest.mark.parametrize(
    ("spec", "case", "argument"), [h[1:] for h in HELD], ids=[h[0] for h in HELD]
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_another_kind_of_argument_never_turns_a_hold_into_an_allow(
    spec: dict[str, Any], case: dict[str, Any], argument: str, data: st.DataObject
) -> None:
    args = dict(case.get("args") or {})
    original = _kind(args[argument]) if argument in args else None
    kind = data.draw(st.sampled_from([k for k in _BY_KIND if k != original]), label="kind")
    args[argument] = data.draw(_BY_KIND[kind], label="value")
    attacked = {**copy.deepcopy(case), "args": args}
    file = CASES / "x.yaml"
    decision = _decide(spec, attacked, _policies(spec, attacked, file))
    assert decision.effect is not Effect.ALLOW, (argument, args[argument], decision.reason)
