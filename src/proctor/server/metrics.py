"""Prometheus metrics of one app: decisions by effect, check latency, audit queue depth."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class GatewayMetrics:
    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "proctor_decisions",
            "Decisions answered, by effect.",
            ["effect"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "proctor_check_seconds",
            "Time to decide and record one check (server side).",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        depth = Gauge(
            "proctor_audit_queue_depth",
            "Audit records queued but not yet committed.",
            registry=self.registry,
        )
        depth.set_function(queue_depth)

    def observe(self, effect: str, seconds: float) -> None:
        self.decisions.labels(effect).inc()
        self.latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
