"""Counter charges and the store's answer: what one call adds to which counter.

Pure data shared by ``proctor.limits`` (which plans the charges) and the
storage backends (which apply them all or none in one atomic step,
``CounterStore.charge``, deciding with ``tally``), so concurrent calls can never
overshoot a ceiling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CounterCharge:
    """Add ``amount`` to counter ``key`` in the bucket starting at ``window_start``.

    Refused when ``previous * previous_weight + current + amount`` would pass
    ``ceiling``; ``previous`` is the bucket ``window_seconds`` earlier (read
    only when ``previous_weight`` is above 0, i.e. for sliding windows).
    """

    key: str
    window_start: int
    window_seconds: int
    amount: float
    ceiling: float
    previous_weight: float = 0.0


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """All charges applied (``admitted``), or none, with the first that did not fit.

    ``used`` holds, per charge, the counter's value after the charge when
    admitted, or before it when refused.
    """

    admitted: bool
    used: tuple[float, ...]
    refused: int | None = None


def fits(used: float, amount: float, ceiling: float) -> bool:
    """The one comparison every store makes (with a tolerance for float sums)."""
    return used + amount <= ceiling + 1e-9


def tally(charges: Sequence[CounterCharge], total_of: Callable[[str, int], float]) -> ChargeResult:
    """Whether every charge fits, reading a bucket's total with ``total_of(key, window_start)``.

    The decision every store makes, in its own atomic step; buckets are read in
    charge order and no further once a charge does not fit. Nothing is applied here.
    """
    used: list[float] = []
    for index, item in enumerate(charges):
        current = total_of(item.key, item.window_start)
        if item.previous_weight > 0:
            previous = total_of(item.key, item.window_start - item.window_seconds)
            current += previous * item.previous_weight
        if not fits(current, item.amount, item.ceiling):
            used.append(current)
            return ChargeResult(False, tuple(used), index)
        used.append(current + item.amount)
    return ChargeResult(True, tuple(used))
