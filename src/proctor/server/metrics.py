"""Prometheus metrics of one app: decisions, per-stage latency, audit queue depth, approval waits.

The names, labels and buckets are listed in docs/observability.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from proctor.limits.approvals import Approval
from proctor.runtime.pipeline import STAGE_NAMES
from proctor.storage.contracts import ProcessBeat

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
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
        counter = partial(Counter, registry=self.registry)
        histogram = partial(Histogram, registry=self.registry)
        self.decisions = counter("proctor_decisions", "Decisions answered, by effect.", ["effect"])
        self.codes = counter(
            "proctor_decision_codes",
            "Decisions answered, by effect and code (`none` for a decision by the rules alone).",
            ["effect", "code"],
        )
        self.latency = histogram(
            "proctor_check_seconds",
            "Time to decide and record one check (server side).",
            buckets=_BUCKETS,
        )
        self.stages = histogram(
            "proctor_check_stage_seconds",
            "Time spent in each named stage of a check (proctor.runtime.pipeline).",
            ["stage"],
            buckets=_STAGE_BUCKETS,
        )
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
        # label children bound once: observing one is then a lock and an add
        self._stage_children = {stage: self.stages.labels(stage) for stage in STAGE_NAMES}

    def observe(self, effect: str, seconds: float, code: str = "") -> None:
        self.decisions.labels(effect).inc()
        self.codes.labels(effect, code or "none").inc()
        self.latency.observe(seconds)

    def observe_stage(self, stage: str, seconds: float) -> None:
        """One stage of one check (the observer given to ``Runtime.observe_stages``)."""
        child = self._stage_children.get(stage)
        if child is None:
            child = self._stage_children[stage] = self.stages.labels(stage)
        child.observe(seconds)

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
