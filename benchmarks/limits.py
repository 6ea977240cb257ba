"""Limits and replay: a full check that updates two counters on SQLite, and policy replay.

``measure`` runs, each in a fresh temporary directory:

* ``check_two_counters``: ``Runtime.check`` with a SQLite audit (batched) and
  the SQLite state file, under a policy whose allow rule meets two limits (a
  rate per user and a sum per user), so every check runs one
  ``BEGIN IMMEDIATE`` transaction that reads and updates two counters. One
  thread; the rate includes closing the stores (the audit's final flush).
* ``check_two_counters_postgres``: the same check with the state store in
  PostgreSQL (a throw-away local cluster, ``tests.postgres_cluster``, fsync
  on) and the audit still in the batched SQLite file, so the figure is what
  the two counters cost in PostgreSQL: one transaction that locks, reads and
  updates two rows, one round trip per statement. Reported, no target; left
  out (with the reason) when no PostgreSQL server can be started.
* ``check_no_limits``: the same path under the same rules without limits, to
  show calls that meet no limit pay nothing for them.
* ``replay``: record ``replay_records`` decisions, then time ``proctor policy
  replay``'s work (read every row, decode it, re-evaluate it, compare).

Targets (issue 6): >= 10,000 checks/s with two counters, >= 20,000 replayed
decisions/s; PostgreSQL figures are reported only.
"""

from __future__ import annotations

import gc
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from proctor.clock import ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.sdk.replay import decoded, replay
from proctor.storage import open_audit_store
from proctor.storage.state import open_state_stores

TARGET_COUNTER_CHECKS_PER_S = 10_000.0
TARGET_REPLAY_PER_S = 20_000.0

RULES = """
name: bench
rules:
  - {id: refunds, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: large, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
  - {id: reads, action: "read:*", effect: allow}
"""
LIMITS = """
limits:
  - {id: refund-rate, action: "write:refund", rate: 1000000000/min, per: [user]}
  - {id: refund-budget, action: "write:refund", sum: args.amount, max: 1e15, window: 1d,
     per: [user]}
"""
NEWER = RULES.replace("args.amount <= 100", "args.amount <= 50").replace(
    "args.amount > 100", "args.amount > 50"
)


def _runtime(directory: Path, text: str, state: str | None = None) -> Runtime:
    db = str(directory / "proctor.db")
    return Runtime(
        policies=load_policies(texts=[text]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.VERIFIED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(db, quick_check=False),
        state=open_state_stores(state or db),
        clock=ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC)),
    )


def _checks(text: str, count: int, state: str | None = None) -> dict[str, Any]:
    users = [User(f"user-{n}", ("*",)) for n in range(50)]
    with tempfile.TemporaryDirectory() as directory:
        runtime = _runtime(Path(directory), text, state)
        for n in range(500):  # warm up
            runtime.check("write:refund", agent="bot", user=users[n % 50], args={"amount": 1})
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        allowed = 0
        for n in range(count):
            decision = runtime.check(
                "write:refund", agent="bot", user=users[n % 50], args={"amount": n % 100}
            )
            allowed += decision.allowed
        issued = time.perf_counter() - started
        runtime.close()
        total = time.perf_counter() - started
        gc.enable()
    return {
        "checks": count,
        "allowed": allowed,
        "seconds_issue": issued,
        "seconds_total": total,
        "checks_per_s": count / total,
        "p_mean_us": issued / count * 1e6,
    }


def _checks_postgres(count: int) -> dict[str, Any]:
    """Two counters in a fresh PostgreSQL database on a local throw-away cluster."""
    from tests.postgres_cluster import start_cluster

    try:
        cluster = start_cluster(fast=False)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return {"skipped": f"no PostgreSQL server: {exc}"}
    try:
        figures = _checks(RULES + LIMITS, count, cluster.database("bench"))
    finally:
        cluster.stop()
    return {**figures, "server": "local cluster, loopback TCP, fsync on"}


def _replay(count: int, rounds: int) -> dict[str, Any]:
    users = [User(f"user-{n}", ("*",)) for n in range(50)]
    with tempfile.TemporaryDirectory() as directory:
        runtime = _runtime(Path(directory), RULES)
        for n in range(count):
            runtime.check(
                "write:refund" if n % 3 else "read:orders",
                agent="bot",
                user=users[n % 50],
                args={"amount": n % 150, "order_id": f"A-{n}"},
            )
        runtime.close()
        store = open_audit_store(str(Path(directory) / "proctor.db"), quick_check=False)
        policies = load_policies(texts=[NEWER])
        same = load_policies(texts=[RULES])
        best = float("inf")
        report = None
        for _ in range(rounds):
            started = time.perf_counter()
            report = replay(decoded(store.iter_rows()), policies)
            best = min(best, time.perf_counter() - started)
        unchanged = replay(decoded(store.iter_rows()), same)
        store.close()
    assert report is not None
    return {
        "records": count,
        "seconds_best": best,
        "decisions_per_s": report.replayed / best,
        "changed": report.changed,
        "unchanged_policy_changed": unchanged.changed,
    }


def measure(*, quick: bool = False) -> dict[str, Any]:
    count = 10_000 if quick else 40_000
    with_limits = _checks(RULES + LIMITS, count)
    on_postgres = _checks_postgres(2_000 if quick else 10_000)
    without = _checks(RULES, count)
    replayed = _replay(10_000 if quick else 50_000, 2 if quick else 3)
    return {
        "check_two_counters": with_limits,
        "check_two_counters_postgres": on_postgres,
        "check_no_limits": without,
        "replay": replayed,
        "targets": [
            _target(
                "full check(), two SQLite counters + batched SQLite audit, checks/s",
                with_limits["checks_per_s"],
                TARGET_COUNTER_CHECKS_PER_S,
            ),
            _reported(
                "full check(), two PostgreSQL counters + batched SQLite audit, checks/s",
                on_postgres.get("checks_per_s"),
            ),
            _target(
                "policy replay, recorded decisions/s",
                replayed["decisions_per_s"],
                TARGET_REPLAY_PER_S,
            ),
        ],
    }


def _target(name: str, value: float, threshold: float) -> dict[str, Any]:
    return {
        "target": name,
        "value": value,
        "threshold": threshold,
        "unit": "/s",
        "comparison": ">=",
        "passed": value >= threshold,
    }


def _reported(name: str, value: float | None) -> dict[str, Any]:
    """A figure the issue asks to report, with no threshold (never a pass or a miss)."""
    return {
        "target": name,
        "value": value,
        "threshold": None,
        "unit": "/s",
        "comparison": "",
        "passed": None,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure(quick="--quick" in sys.argv), indent=2))
