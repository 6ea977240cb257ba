"""The indexed floor decides as the reference does, and paired rounds give a ratio."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from benchmarks.engines import ProctorEngine
from benchmarks.generate import generate_requests, generate_rules, reference_allowed
from benchmarks.indexed import IndexedEngine, beside_proctor
from benchmarks.measure import paired_p50_ratio

MONDAY_NOON = datetime(2025, 1, 6, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(("size", "seed"), [(10, 1), (300, 2), (1_000, 3), (2_000, 4)])
def test_the_floor_decides_as_the_reference(size: int, seed: int) -> None:
    rules = generate_rules(size, seed=seed)
    requests = generate_requests(rules, 400, seed=seed)
    floor = IndexedEngine(rules)
    for request in requests:
        want = reference_allowed(rules, request)
        assert floor.decide(floor.prepare(request)) == want, request
        assert floor.decide(floor.prepare(request)) == want, request  # from its per-action cache


def test_a_prefix_glob_needs_a_character_after_its_colon() -> None:
    rules = generate_rules(300, seed=5)
    globs = [rule for rule in rules if rule.action.endswith(":*") and not rule.conditions]
    floor = IndexedEngine(globs)
    for rule in globs:
        bare = rule.action[:-1]  # `read:` itself is not under `read:*`
        assert floor.decide((bare, MONDAY_NOON, {})) is False


def test_paired_rounds_order_a_slow_call_above_a_fast_one() -> None:
    def slow(n: int) -> int:
        return sum(range(n * 40))

    def fast(n: int) -> int:
        return n

    paired = paired_p50_ratio((slow, [50] * 200), (fast, [50] * 200), rounds=5)
    assert paired["rounds"] == 5
    assert paired["ratio"] > 5
    low, high = paired["ratio_spread"]
    assert low <= paired["ratio"] <= high


def test_beside_proctor_reports_agreement_and_a_ratio() -> None:
    rules = generate_rules(200, seed=6)
    pool = generate_requests(rules, 300, seed=6)
    reference = [reference_allowed(rules, request) for request in pool]
    proctor = ProctorEngine(rules)
    report = beside_proctor(
        rules, pool, reference, proctor.decide, [proctor.prepare(r) for r in pool], rounds=3
    )
    assert report["mismatches"] == 0
    assert report["proctor_over_indexed_p50"] > 0
    assert report["proctor_p50_us"] > 0
    assert report["indexed_p50_us"] > 0
