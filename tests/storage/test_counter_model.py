"""Counter stores against a reference model: any sequence of charges, same answers everywhere."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.limits.counters import ChargeResult, CounterCharge, fits
from proctor.storage.state import open_state_stores

_charge = st.builds(
    CounterCharge,
    key=st.sampled_from(["a", "b", "c"]),
    window_start=st.sampled_from([0, 60, 120]),
    window_seconds=st.just(60),
    amount=st.sampled_from([0.0, 1.0, 2.5, 10.0]),
    ceiling=st.sampled_from([5.0, 10.0, 12.5]),
    previous_weight=st.sampled_from([0.0, 0.25, 1.0]),
)


def _reference(batches: list[list[CounterCharge]]) -> list[ChargeResult]:
    totals: dict[tuple[str, int], float] = {}
    results = []
    for batch in batches:
        used: list[float] = []
        refused = None
        for index, item in enumerate(batch):
            current = totals.get((item.key, item.window_start), 0.0)
            if item.previous_weight > 0:
                previous = totals.get((item.key, item.window_start - item.window_seconds), 0.0)
                current += previous * item.previous_weight
            if not fits(current, item.amount, item.ceiling):
                used.append(current)
                refused = index
                break
            used.append(current + item.amount)
        if refused is None:
            for item in batch:
                slot = (item.key, item.window_start)
                totals[slot] = totals.get(slot, 0.0) + item.amount
        results.append(ChargeResult(refused is None, tuple(used), refused))
    return results


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_charge, min_size=1, max_size=3), min_size=1, max_size=12))
def test_memory_and_sqlite_follow_the_model(batches: list[list[CounterCharge]]) -> None:
    expected = _reference(batches)
    with tempfile.TemporaryDirectory() as directory:
        for location in (None, str(Path(directory) / "proctor.db")):
            stores = open_state_stores(location)
            try:
                got = [stores.counters.charge(batch) for batch in batches]
            finally:
                stores.close()
            assert got == expected, location
