"""The storage limit the full check is compared with: the same records, SQLite alone."""

from __future__ import annotations

from benchmarks.engines import ProctorEngine
from benchmarks.generate import generate_requests, generate_rules
from benchmarks.run import TARGET_OVER_STORAGE_LIMIT, targets

from benchmarks import storage_limit


def test_the_records_of_real_checks_are_committed_in_the_writers_groups() -> None:
    rules = generate_rules(20)
    engine = ProctorEngine(rules)
    events = storage_limit.captured_events(engine.policy_set, generate_requests(rules, 50), 700)
    assert len(events) == 700
    assert len({event.decision_id for event in events}) == 700
    measured = storage_limit.measure(events)
    assert measured["records"] == 700
    assert measured["group"] == 512  # two transactions: 512 and 188
    assert measured["records_per_s"] > 0


def test_each_full_check_is_paired_with_sqlite_alone_taking_as_many_records() -> None:
    rules = generate_rules(20)
    engine = ProctorEngine(rules)
    pool = generate_requests(rules, 50)
    expected = [engine.decide(engine.prepare(request)).allowed for request in pool]
    paired = storage_limit.beside_full_checks(
        engine.policy_set, pool, expected, checks=300, rounds=3
    )
    assert len(paired["rounds"]) == 3
    assert paired["batched"]["expected_rows"] == 350  # the warm-up pass and the checks
    assert paired["storage_limit"]["records"] == 350
    ratios = sorted(r["ratio"] for r in paired["rounds"])
    assert paired["ratio_to_storage_limit"] == ratios[1]  # the median pair is reported
    assert paired["ratio_to_storage_limit"] == (
        paired["batched"]["checks_per_s_durable"] / paired["storage_limit"]["records_per_s"]
    )


def test_the_full_check_is_judged_against_the_storage_limit_of_its_own_run() -> None:
    batched = {"checks_per_s_durable": 1_000.0, "lost": 0}
    results = {
        "sizes": {},
        "ratios": {},
        "full_check": {
            "batched": batched,
            "storage_limit": {"records_per_s": 4_000.0},
            "ratio_to_storage_limit": 0.25,
        },
    }
    row = next(r for r in targets(results) if "SQLite alone" in r["target"])
    assert row["value"] == 0.25
    assert row["threshold"] == TARGET_OVER_STORAGE_LIMIT
    assert row["passed"] is False
    batched["lost"] = 3  # a lost record counts as no throughput at all
    row = next(r for r in targets(results) if "SQLite alone" in r["target"])
    assert row["value"] == 0.0
