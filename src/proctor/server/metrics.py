"""Prometheus metrics of one app: decisions, per-stage latency, audit queue depth, approval waits.

The names, labels and buckets are listed in docs/observability.md. What every
check observes (its decision, its latency, each stage's time) is counted by
``CheckTally``: plain counts under one lock, turned into Prometheus families at
scrape time. ``prometheus_client``'s own counters and histograms take a lock per
sample and per bucket, which cost a check more than most of its stages.
Stage times are taken on one check in ``STAGE_SAMPLING``: timing every stage
of every check cost about 8 µs per check, and a sample gives the same
distribution.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from proctor.limits.approvals import Approval
from proctor.runtime.pipeline import STAGE_NAMES
from proctor.storage.contracts import ProcessBeat

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
STAGE_SAMPLING = 8  # stage times are taken on one check in 8
# A stage takes microseconds (policy) to milliseconds (a synchronous audit commit).
_STAGE_BUCKETS = (
    0.000005,
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.005,
    0.025,
    0.1,
)
# A person answers an approval in seconds to a day.
_WAIT_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0)


class GatewayMetrics:
    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        histogram = partial(Histogram, registry=self.registry)
        self.checks = CheckTally()
        self.registry.register(self.checks)
        self.approval_waits = histogram(
            "proctor_approval_wait_seconds",
            "Time from an approval's request to its approval or rejection.",
            ["outcome"],
            buckets=_WAIT_BUCKETS,
        )
        depth = Gauge(
            "proctor_audit_queue_depth",
            "Audit records queued but not yet committed.",
            registry=self.registry,
        )
        depth.set_function(queue_depth)
        self.observe = self.checks.observe
        self.observe_stage = self.checks.observe_stage  # given to ``Runtime.observe_stages``

    def observe_approval(self, approval: Approval) -> None:
        """``ApprovalDesk.on_decided``: how long the approval waited for its answer."""
        if approval.decided_at is None:
            return
        waited = (approval.decided_at - approval.created_at).total_seconds()
        self.approval_waits.labels(approval.status.value).observe(max(waited, 0.0))

    def watch_processes(self, processes: Callable[[], Sequence[ProcessBeat]]) -> None:
        """``proctor_policy_version{process, role}``: each live process's active version."""
        self.registry.register(_PolicyVersions(processes))

    def watch_spill(self, counts: Callable[[], tuple[int, int]]) -> None:
        """``proctor_audit_spilled`` and ``proctor_audit_replayed``: records this process
        could not write (spilled) and replayed into the chain since it started."""
        self.registry.register(_SpillCounts(counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Buckets:
    """One histogram's counts per bucket (the last: past every bound) and sum."""

    __slots__ = ("counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def family_buckets(self, bounds: Sequence[float]) -> list[tuple[str, float]]:
        cumulative, running = [], 0
        for bound, count in zip((*map(floatToGoString, bounds), "+Inf"), self.counts, strict=True):
            running += count
            cumulative.append((bound, float(running)))
        return cumulative


class CheckTally(Collector):
    """Decisions by effect and code, check latency and stage times, counted per check.

    Checks settle on the event loop and on worker threads, so every count moves
    under one lock (uncontended: a fraction of a microsecond).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[tuple[str, str], int] = {}
        self._latency = _Buckets(_BUCKETS)
        self._stages: dict[str, _Buckets] = {
            stage: _Buckets(_STAGE_BUCKETS) for stage in STAGE_NAMES
        }

    def observe(self, effect: str, seconds: float, code: str = "") -> None:
        """One answered check: its effect, its code and its time, server side."""
        key = (effect, code or "none")
        latency = self._latency
        with self._lock:
            self._codes[key] = self._codes.get(key, 0) + 1
            latency.counts[bisect_left(_BUCKETS, seconds)] += 1
            latency.total += seconds

    def observe_stage(self, stage: str, seconds: float) -> None:
        """One stage of one check (the observer given to ``Runtime.observe_stages``)."""
        with self._lock:
            found = self._stages.get(stage)
            if found is None:
                found = self._stages[stage] = _Buckets(_STAGE_BUCKETS)
            found.counts[bisect_left(_STAGE_BUCKETS, seconds)] += 1
            found.total += seconds

    def describe(self) -> Iterator[Metric]:
        return iter(())  # the families are known only at scrape time (their labels)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            codes = dict(self._codes)
            latency = (self._latency.family_buckets(_BUCKETS), self._latency.total)
            stages = {
                stage: (found.family_buckets(_STAGE_BUCKETS), found.total)
                for stage, found in self._stages.items()
                if any(found.counts)
            }
        decisions = CounterMetricFamily(
            "proctor_decisions", "Decisions answered, by effect.", labels=["effect"]
        )
        by_effect: dict[str, int] = {}
        for (effect, _), count in codes.items():
            by_effect[effect] = by_effect.get(effect, 0) + count
        for effect, count in by_effect.items():
            decisions.add_metric([effect], float(count))
        yield decisions
        by_code = CounterMetricFamily(
            "proctor_decision_codes",
            "Decisions answered, by effect and code (`none` for a decision by the rules alone).",
            labels=["effect", "code"],
        )
        for (effect, code), count in codes.items():
            by_code.add_metric([effect, code], float(count))
        yield by_code
        check = HistogramMetricFamily(
            "proctor_check_seconds", "Time to decide and record one check (server side)."
        )
        check.add_metric([], *latency)
        yield check
        staged = HistogramMetricFamily(
            "proctor_check_stage_seconds",
            "Time spent in each named stage of a check (proctor.runtime.pipeline).",
            labels=["stage"],
        )
        for stage, (buckets, total) in stages.items():
            staged.add_metric([stage], buckets, total)
        yield staged


class _PolicyVersions(Collector):
    """Read at scrape time from the store's heartbeats (-1: a process with no version)."""

    def __init__(self, processes: Callable[[], Sequence[ProcessBeat]]) -> None:
        self._processes = processes

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "proctor_policy_version", "Active policy version per process.", labels=["process"]
        )

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "proctor_policy_version",
            "Policy version each live process on the store decides with (-1: none).",
            labels=["process", "role"],
        )
        try:
            processes = self._processes()
        except Exception:  # a store that cannot be read leaves the gauge out of this scrape
            processes = ()
        for process in processes:
            version = process.policy_version if process.policy_version is not None else -1
            family.add_metric([process.process_id, process.role], float(version))
        yield family


class _SpillCounts(Collector):
    """Read at scrape time from the audit store's spill file."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        spilled, replayed = self._counts()
        yield CounterMetricFamily(
            "proctor_audit_spilled",
            "Audit records this process could not write and spilled for a replay.",
            value=spilled,
        )
        yield CounterMetricFamily(
            "proctor_audit_replayed",
            "Spilled audit records this process replayed into the chain.",
            value=replayed,
        )
