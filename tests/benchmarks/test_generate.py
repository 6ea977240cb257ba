"""Smoke test of the benchmark generator and its Cedar and Rego translations (fast)."""

from __future__ import annotations

import pytest
from benchmarks.engines import ProctorEngine
from benchmarks.generate import (
    generate_requests,
    generate_rules,
    pool_stats,
    reference_allowed,
    to_proctor_yaml,
)


def test_generation_is_deterministic() -> None:
    assert generate_rules(200, seed=7) == generate_rules(200, seed=7)
    rules = generate_rules(200, seed=7)
    assert generate_requests(rules, 50, seed=7) == generate_requests(rules, 50, seed=7)
    assert generate_rules(200, seed=8) != rules


def test_the_mix_covers_every_kind() -> None:
    rules = generate_rules(1_000)
    actions = [rule.action for rule in rules]
    assert any(not a.endswith(":*") for a in actions)
    assert any(a.endswith(":*") and a.count(":") == 1 for a in actions)
    assert any(a.endswith(":*") and a.count(":") == 2 for a in actions)
    assert {rule.effect for rule in rules} == {"allow", "deny"}
    kinds = {c.kind for rule in rules for c in rule.conditions}
    assert kinds == {"amount", "hour", "region", "tag"}
    assert {c.op for rule in rules for c in rule.conditions if c.kind == "tag"} == {
        "in",
        "contains",
    }
    assert len({rule.rule_id for rule in rules}) == len(rules)


def test_the_pool_hits_and_misses() -> None:
    rules = generate_rules(1_000)
    stats, reference = pool_stats(rules, generate_requests(rules, 300))
    assert stats.allowed > 0
    assert stats.denied_by_rule > 0
    assert stats.denied_by_default > 0
    assert stats.no_candidate > 0
    assert stats.condition_false > 0
    assert 1 <= stats.candidates_mean <= 8
    assert sum(reference) == stats.allowed


@pytest.fixture(scope="module")
def small() -> tuple[list, list, list[bool]]:
    rules = generate_rules(10)
    requests = generate_requests(rules, 50)
    engine = ProctorEngine(rules)
    decided = [engine.allowed(engine.decide(engine.prepare(r))) for r in requests]
    return rules, requests, decided


def test_proctor_agrees_with_the_reference(small: tuple[list, list, list[bool]]) -> None:
    rules, requests, decided = small
    assert "default: deny" in to_proctor_yaml(rules)
    assert decided == [reference_allowed(rules, r) for r in requests]
    assert True in decided
    assert False in decided


@pytest.mark.parametrize("module", ["translate_cedar", "translate_rego"])
def test_peers_agree_with_proctor(module: str, small: tuple[list, list, list[bool]]) -> None:
    rules, requests, decided = small
    if module == "translate_cedar":
        pytest.importorskip("cedarpy")
        from benchmarks.translate_cedar import CedarEngine as Engine
    else:
        pytest.importorskip("regopy")
        from benchmarks.translate_rego import RegoEngine as Engine  # type: ignore[assignment]
    engine = Engine(rules)
    assert [engine.allowed(engine.decide(engine.prepare(r))) for r in requests] == decided
