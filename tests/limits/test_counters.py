"""``tally``: the one check-and-charge decision every counter store makes."""

from __future__ import annotations

from proctor import Proctor
from proctor.limits.counters import CounterCharge, tally
from proctor.model import Agent, User


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


RATE_PER_USER = """
name: reads
rules: [{id: reads, action: "read:*", effect: allow}]
limits:
  - {id: rate, action: "read:*", rate: 2/min, per: [user, tenant]}
"""


def test_principals_whose_ids_differ_never_share_a_counter() -> None:
    """Ids that used to read alike in a counter's key (`|` written as `/`, the same
    first 200 characters, a sub of `-` beside no user or tenant) now count apart."""
    guard = Proctor.from_policies(texts=(RATE_PER_USER,), agents=[Agent("bot")], agent="bot")
    pairs = [
        (User("auth0|7", ("*",)), User("auth0/7", ("*",))),
        (User("a" * 200 + "1", ("*",)), User("a" * 200 + "2", ("*",))),
        (None, User("-", ("*",), {"tenant": "-"})),
        (User("c", ("*",), {"tenant": 5}), User("c", ("*",), {"tenant": "5"})),
        (User("d%7C", ("*",)), User("d|", ("*",))),
    ]
    for first, second in pairs:
        assert all(guard.check("read:x", user=first).allowed for _ in range(2))
        assert guard.check("read:x", user=first).code == "limit_exceeded"
        assert guard.check("read:x", user=second).allowed, (first, second)
