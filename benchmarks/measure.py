"""Timing loops: warm-up, GC off while timing, bounded by count and by time, medians.

``measure_latency`` runs ``rounds`` rounds over the prepared inputs. Each
round is one latency pass (``perf_counter_ns`` around every call) and one
throughput pass (one clock read around a block of calls). The reported p50,
p99 and decisions/s are the medians over the rounds, which keeps one noisy
moment on a shared machine from deciding the result.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

ns = time.perf_counter_ns


@dataclass(frozen=True, slots=True)
class LatencyResult:
    p50_us: float
    p99_us: float
    mean_us: float
    throughput_per_s: float
    samples: int  # timed calls in total (latency passes)
    rounds: int
    per_round: int  # calls per latency pass and per throughput pass
    time_bounded: bool  # True when the time budget, not the pool, set ``per_round``
    rounds_p50_us: tuple[float, ...]
    rounds_p99_us: tuple[float, ...]
    rounds_throughput: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: Sequence[int | float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return float(sorted_values[rank - 1])


def timer_overhead_ns(count: int = 20_000) -> float:
    """The median cost of two back-to-back ``perf_counter_ns`` reads."""
    samples = []
    for _ in range(count):
        start = ns()
        samples.append(ns() - start)
    return float(statistics.median(samples))


def estimate_cost_s(fn: Callable[[Any], Any], inputs: Sequence[Any], budget_s: float) -> float:
    """The mean seconds per call over at most ``budget_s`` (also a warm-up)."""
    calls = 0
    start = time.perf_counter()
    for value in inputs:
        fn(value)
        calls += 1
        if time.perf_counter() - start >= budget_s:
            break
    return (time.perf_counter() - start) / max(calls, 1)


def measure_latency(
    fn: Callable[[Any], Any],
    inputs: Sequence[Any],
    *,
    rounds: int = 5,
    budget_s: float = 20.0,
    warmup: int = 500,
    min_per_round: int = 20,
    cost_s: float | None = None,
) -> LatencyResult:
    """Latency percentiles and throughput of ``fn`` over ``inputs``, within ``budget_s``.

    ``cost_s`` is the caller's estimate of one call (for instance from the
    cross-check pass); without it a short warm-up pass estimates it.
    """
    if cost_s is None:
        cost_s = estimate_cost_s(fn, inputs[:warmup], min(2.0, budget_s / 10))
    else:
        estimate_cost_s(fn, inputs[: min(warmup, 50)], min(1.0, budget_s / 20))
    cost_s = max(cost_s, 1e-9)
    if 2 * rounds * len(inputs) * cost_s <= budget_s:
        per_round = len(inputs)
    else:  # too slow for the whole pool: fewer rounds first, then fewer calls per round
        if budget_s / (2 * rounds * cost_s) < min_per_round:
            rounds = max(1, min(rounds, int(budget_s / (2 * min_per_round * cost_s))))
        per_round = max(5, min(len(inputs), int(budget_s / (2 * rounds * cost_s))))
    time_bounded = per_round < len(inputs)
    deadline = time.perf_counter() + budget_s * 1.5  # hard stop even if the estimate was low
    p50s: list[float] = []
    p99s: list[float] = []
    means: list[float] = []
    rates: list[float] = []
    total = 0
    for round_index in range(rounds):
        # rotate the starting point so time-bounded rounds see different requests
        start = (round_index * per_round) % len(inputs)
        chosen = [inputs[(start + i) % len(inputs)] for i in range(per_round)]
        samples = _latency_pass(fn, chosen)
        rate = _throughput_pass(fn, chosen)
        samples.sort()
        p50s.append(percentile(samples, 0.50) / 1000)
        p99s.append(percentile(samples, 0.99) / 1000)
        means.append(sum(samples) / len(samples) / 1000)
        rates.append(rate)
        total += len(samples)
        if time.perf_counter() > deadline:
            time_bounded = True
            break
    return LatencyResult(
        p50_us=statistics.median(p50s),
        p99_us=statistics.median(p99s),
        mean_us=statistics.median(means),
        throughput_per_s=statistics.median(rates),
        samples=total,
        rounds=len(p50s),
        per_round=per_round,
        time_bounded=time_bounded,
        rounds_p50_us=tuple(round(v, 3) for v in p50s),
        rounds_p99_us=tuple(round(v, 3) for v in p99s),
        rounds_throughput=tuple(round(v, 1) for v in rates),
    )


def paired_p50_ratio(
    first: tuple[Callable[[Any], Any], Sequence[Any]],
    second: tuple[Callable[[Any], Any], Sequence[Any]],
    *,
    rounds: int = 21,
) -> dict[str, Any]:
    """The p50 of ``first`` over the p50 of ``second``, taken in the same rounds.

    Each round times one latency pass of each, back to back, in alternating
    order; the ratio is the median of the rounds' ratios. A busy moment on a
    shared machine slows both passes of its round alike, so the ratio holds
    where either microsecond figure alone moves by a third between runs.
    """
    firsts: list[float] = []
    seconds: list[float] = []
    for round_index in range(rounds):
        order = (first, second) if round_index % 2 == 0 else (second, first)
        p50s = {}
        for fn, inputs in order:
            samples = _latency_pass(fn, list(inputs))
            samples.sort()
            p50s[id(fn)] = percentile(samples, 0.50) / 1000
        firsts.append(p50s[id(first[0])])
        seconds.append(p50s[id(second[0])])
    ratios = [a / b for a, b in zip(firsts, seconds, strict=True)]
    return {
        "rounds": rounds,
        "first_p50_us": statistics.median(firsts),
        "second_p50_us": statistics.median(seconds),
        "ratio": statistics.median(ratios),
        "ratio_spread": [min(ratios), max(ratios)],
        "first_spread_us": [min(firsts), max(firsts)],
    }


def _latency_pass(fn: Callable[[Any], Any], chosen: list[Any]) -> list[int]:
    samples: list[int] = []
    append = samples.append
    gc.collect()
    gc.disable()
    try:
        for value in chosen:
            start = ns()
            fn(value)
            append(ns() - start)
    finally:
        gc.enable()
    return samples


def _throughput_pass(fn: Callable[[Any], Any], chosen: list[Any]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = ns()
        for value in chosen:
            fn(value)
        elapsed = ns() - start
    finally:
        gc.enable()
    return len(chosen) / (elapsed / 1e9)


def measure_batch_throughput(
    fn: Callable[[list[Any]], Any], inputs: list[Any], *, rounds: int = 3, budget_s: float = 10.0
) -> float:
    """Decisions per second of a batch call over ``inputs``, median of ``rounds`` (time-bounded)."""
    rates: list[float] = []
    deadline = time.perf_counter() + budget_s
    fn(inputs[: min(20, len(inputs))])  # warm-up
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            start = ns()
            fn(inputs)
            elapsed = ns() - start
        finally:
            gc.enable()
        rates.append(len(inputs) / (elapsed / 1e9))
        if time.perf_counter() > deadline:
            break
    return statistics.median(rates)
