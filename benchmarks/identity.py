"""Delegation-token costs: a check with a cached token over a plain check, the first
verification of a new token, and an in-process RFC 8693 exchange.

    .venv/bin/python -m benchmarks.identity          # alone
    (also run by ``python -m benchmarks.run``)

Targets (issue 4): cached token check ≤ 5 µs over a plain check; first
verification of a new token ≤ 250 µs p50; exchange ≤ 1 ms p50. The audit store
only keeps events here, so the numbers are the identity work, not SQLite's.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from proctor.clock import ManualClock
from proctor.identity.exchange import TokenExchangeRequest
from proctor.identity.keys import KeyRing
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.identity.settings import IdentityConfig
from proctor.model import Agent, Tier, User
from proctor.model.audit_event import AuditEvent
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.runtime.identity import IdentityService
from proctor.storage import MemoryAuditStore
from proctor.storage.memory_identity import MemoryIdentityStore

TARGET_CACHED_OVERHEAD_US = 5.0
TARGET_FIRST_VERIFY_US = 250.0
TARGET_EXCHANGE_US = 1000.0
POLICY = 'name: sales\nrules:\n  - {action: "read:*", effect: allow}\n'
SCOPES = ("read:*", "write:refund")


class _KeepingStore(MemoryAuditStore):
    """Keeps the events without chaining them: the audit cost is not what is measured."""

    def append(self, event: AuditEvent, *, wait: bool = False) -> None:
        self.events = getattr(self, "events", 0) + 1


def build() -> tuple[Runtime, ManualClock]:
    clock = ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
    roles = {"sales": ScopeSet.parse(["read:crm", "read:orders", "write:refund", "write:email"])}
    registry = AgentRegistry(
        {"sales-assistant": Agent("sales-assistant", "sales", Tier.VERIFIED)}, roles
    )
    identity = IdentityService(
        IdentityConfig(allow_dev_tokens=True),
        key_path=None,
        store=MemoryIdentityStore(),
        registry=registry,
        clock=clock,
        keys=KeyRing.generate(int(clock().timestamp()) - 10).with_dev_key(0),
    )
    runtime = Runtime(
        policies=load_policies(texts=[POLICY]),
        registry=registry,
        audit=_KeepingStore(),
        clock=clock,
        identity=identity,
    )
    return runtime, clock


def _time_each(fn: Callable[[Any], Any], inputs: list[Any]) -> list[float]:
    ns = time.perf_counter_ns
    samples = []
    gc.disable()
    try:
        for value in inputs:
            start = ns()
            fn(value)
            samples.append((ns() - start) / 1000)
    finally:
        gc.enable()
    return samples


def measure(rounds: int = 7, calls: int = 5_000, fresh: int = 1_000) -> dict[str, Any]:
    runtime, _ = build()
    identity = runtime.identity
    assert identity is not None
    user = User("alice", SCOPES)
    subject = identity.mint_dev_user_token("alice", SCOPES)
    request = TokenExchangeRequest(subject_token=subject)
    token = runtime.exchange(request, actor="sales-assistant").response.access_token
    assert runtime.check("read:orders", token=token).allowed

    def plain(_: Any) -> Any:
        return runtime.check("read:orders", agent="sales-assistant", user=user)

    def cached(_: Any) -> Any:
        return runtime.check("read:orders", token=token)

    def exchange(_: Any) -> Any:
        return runtime.exchange(request, actor="sales-assistant")

    def first_check(new_token: str) -> Any:
        return runtime.check("read:orders", token=new_token)

    def first_verify(new_token: str) -> Any:
        return identity.delegations.verify(new_token, identity.now())

    plain_p50, cached_p50, first_check_p50, first_verify_p50, exchange_p50 = [], [], [], [], []
    loop = list(range(calls))
    for _ in loop[:200]:
        plain(None)
        cached(None)
    for _ in range(rounds):
        plain_p50.append(statistics.median(_time_each(plain, loop)))
        cached_p50.append(statistics.median(_time_each(cached, loop)))
        tokens = [exchange(None).response.access_token for _ in range(fresh)]
        first_check_p50.append(statistics.median(_time_each(first_check, tokens[: fresh // 2])))
        first_verify_p50.append(statistics.median(_time_each(first_verify, tokens[fresh // 2 :])))
        exchange_p50.append(statistics.median(_time_each(exchange, loop[:fresh])))
    plain_us = statistics.median(plain_p50)
    cached_us = statistics.median(cached_p50)
    results = {
        "plain_check_p50_us": plain_us,
        "cached_token_check_p50_us": cached_us,
        "cached_overhead_us": cached_us - plain_us,
        "first_token_check_p50_us": statistics.median(first_check_p50),
        "first_verification_p50_us": statistics.median(first_verify_p50),
        "exchange_p50_us": statistics.median(exchange_p50),
        "rounds": rounds,
    }
    results["targets"] = [
        _target(
            "cached token check over plain check",
            results["cached_overhead_us"],
            TARGET_CACHED_OVERHEAD_US,
        ),
        _target(
            "first verification of a new token, p50",
            results["first_verification_p50_us"],
            TARGET_FIRST_VERIFY_US,
        ),
        _target("token exchange in-process, p50", results["exchange_p50_us"], TARGET_EXCHANGE_US),
    ]
    runtime.close()
    return results


def _target(name: str, value: float, threshold: float) -> dict[str, Any]:
    return {
        "target": name,
        "value": value,
        "threshold": threshold,
        "unit": "µs",
        "comparison": "<=",
        "passed": value <= threshold,
    }


def main() -> int:
    results = measure()
    for key, value in results.items():
        if key != "targets":
            print(f"{key:32} {value:10.2f}" if isinstance(value, float) else f"{key:32} {value}")
    for target in results["targets"]:
        verdict = "pass" if target["passed"] else "MISS"
        print(
            f"{verdict}  {target['target']}: {target['value']:.2f} µs (≤ {target['threshold']:.0f})"
        )
    return 0 if all(t["passed"] for t in results["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
