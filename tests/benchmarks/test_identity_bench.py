"""The identity benchmark runs (tiny sizes; the numbers come from `make bench`)."""

from __future__ import annotations

from benchmarks.identity import measure


def test_the_identity_benchmark_measures_every_target() -> None:
    results = measure(rounds=1, calls=50, fresh=20)
    assert [t["target"] for t in results["targets"]] == [
        "cached token check over plain check",
        "first verification of a new token, p50",
        "token exchange in-process, p50",
    ]
    assert results["exchange_p50_us"] > 0
