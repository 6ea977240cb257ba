"""``tally``: the one check-and-charge decision every counter store makes."""

from __future__ import annotations

from proctor.limits.counters import CounterCharge, tally


def test_every_charge_that_fits_is_admitted_with_the_totals_after_it() -> None:
    totals = {("a", 60): 4.0, ("a", 0): 10.0}
    charges = [
        CounterCharge("a", 60, 60, 1.0, 10.0, previous_weight=0.5),
        CounterCharge("b", 0, 0, 2.0, 2.0),
    ]
    result = tally(charges, lambda key, start: totals.get((key, start), 0.0))
    assert result.admitted
    assert result.used == (10.0, 2.0)
    assert result.refused is None


def test_the_first_charge_that_does_not_fit_refuses_and_nothing_after_it_is_read() -> None:
    read: list[tuple[str, int]] = []

    def total_of(key: str, start: int) -> float:
        read.append((key, start))
        return 9.5

    charges = [CounterCharge("a", 0, 60, 1.0, 10.0), CounterCharge("b", 0, 60, 1.0, 10.0)]
    result = tally(charges, total_of)
    assert not result.admitted
    assert result.refused == 0
    assert result.used == (9.5,)
    assert read == [("a", 0)]
