"""The whole in-process path: ``Proctor.check`` -> ``Runtime.check`` -> SQLite audit on disk.

``run_batched`` issues up to ``checks`` checks from one thread against a store
with ``durability="batched"`` (queued appends, group commits by the writer
thread), then closes the store (which flushes it), reopens the file, counts the
rows and verifies the hash chain. The reported rate includes the final flush,
so it is the rate at which records became durable, not only the rate of issue.

``run_sync`` does the same with ``durability="sync"`` (every check waits for
its commit) from several threads sharing one ``Proctor``.

The clock is a ``ManualClock`` set to each pool request's time before its
check, so the runtime decides exactly what the engine decided for that request;
decision ids come from the system clock.
"""

from __future__ import annotations

import gc
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.engines import AGENT_ID
from benchmarks.generate import BenchRequest
from benchmarks.measure import percentile

ns = time.perf_counter_ns


@dataclass(frozen=True, slots=True)
class FullCheckResult:
    durability: str
    threads: int
    rules: int
    checks: int  # timed checks
    warmup_checks: int
    seconds_issue: float  # until the last check() returned
    seconds_flush: float  # close(): until every queued record was committed
    checks_per_s_issued: float
    checks_per_s_durable: float  # checks / (issue + flush)
    cpu_us_per_check: float  # CPU time of every thread of the process, issue + flush, per check
    p50_us: float  # per check() call
    p99_us: float
    expected_rows: int
    rows: int
    lost: int
    verify_ok: bool
    verify_checked: int
    verify_problem: str | None
    decision_mismatches: int  # runtime decisions that differ from the engine's (warm-up pass)
    time_bounded: bool
    db_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_guard(
    policy_set: Any,
    audit: Any,
    start: Any,
    *,
    wait: bool = False,
) -> tuple[Any, Any]:
    """A ``Proctor`` over a ``Runtime`` with ``audit`` as its store, and its ``ManualClock``."""
    from proctor.clock import DecisionIds, ManualClock
    from proctor.identity.registry import AgentRegistry
    from proctor.model.request import Agent
    from proctor.runtime import Runtime
    from proctor.sdk import Proctor

    clock = ManualClock(start)
    agent = Agent(AGENT_ID)
    runtime = Runtime(
        policies=policy_set,
        registry=AgentRegistry({agent.id: agent}),
        audit=audit,
        clock=clock,
        ids=DecisionIds(),
        default_agent=agent.id,
        wait_for_audit=wait,
    )
    return Proctor(runtime, agent=agent.id), clock


def _runtime(
    policy_set: Any,
    path: Path,
    durability: str,
    start: Any,
) -> tuple[Any, Any]:
    from proctor.storage import open_audit_store

    store = open_audit_store(str(path), durability=durability)  # type: ignore[arg-type]
    return build_guard(policy_set, store, start, wait=durability == "sync")


def _reopen_and_verify(path: Path) -> tuple[int, bool, int, str | None]:
    from proctor.storage import open_audit_store

    store = open_audit_store(str(path))
    try:
        rows = store.count()
        report = store.verify()
    finally:
        store.close()
    return rows, bool(report.ok), int(report.checked), report.problem


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def run_batched(
    policy_set: Any,
    requests: list[BenchRequest],
    expected: list[bool],
    *,
    checks: int = 100_000,
    budget_s: float = 60.0,
) -> FullCheckResult:
    calls = [(r.now, r.action, r.args) for r in requests]
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        path = Path(tmp) / "audit.db"
        guard, clock = _runtime(policy_set, path, "batched", requests[0].now)
        check, set_time = guard.check, clock.set
        # warm-up: one pass over the pool, compared with the engine's decisions
        mismatches = 0
        for (now, action, args), want in zip(calls, expected, strict=True):
            set_time(now)
            if check(action, args=args).allowed != want:
                mismatches += 1
        guard.runtime.audit.flush()
        warmup = len(calls)
        samples: list[int] = []
        append = samples.append
        pool = len(calls)
        done = 0
        deadline = ns() + int(budget_s * 1e9)
        gc.collect()
        gc.disable()
        try:
            cpu_started = time.process_time()
            started = ns()
            while done < checks:
                now, action, args = calls[done % pool]
                set_time(now)
                before = ns()
                check(action, args=args)
                append(ns() - before)
                done += 1
                if done % 1000 == 0 and ns() > deadline:
                    break
            issued = ns()
            guard.close()  # flushes the queue and stops the writer
            flushed = ns()
            cpu_s = time.process_time() - cpu_started
        finally:
            gc.enable()
        rows, ok, checked, problem = _reopen_and_verify(path)
        size = _db_bytes(path)
    return _result(
        "batched",
        1,
        policy_set,
        done,
        warmup,
        started,
        issued,
        flushed,
        samples,
        rows,
        ok,
        checked,
        problem,
        mismatches,
        done < checks,
        size,
        cpu_s,
    )


def run_sync(
    policy_set: Any,
    requests: list[BenchRequest],
    *,
    threads: int = 8,
    checks: int = 16_000,
    budget_s: float = 20.0,
) -> FullCheckResult:
    calls = [(r.now, r.action, r.args) for r in requests]
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        path = Path(tmp) / "audit.db"
        guard, clock = _runtime(policy_set, path, "sync", requests[0].now)
        warmup = min(200, len(calls))
        for now, action, args in calls[:warmup]:
            clock.set(now)
            guard.check(action, args=args)
        per_thread = checks // threads
        counts = [0] * threads
        latencies: list[list[int]] = [[] for _ in range(threads)]
        barrier = threading.Barrier(threads + 1)
        deadline = time.perf_counter() + budget_s

        def worker(index: int) -> None:
            check = guard.check
            mine = latencies[index]
            barrier.wait()
            for n in range(per_thread):
                # the shared ManualClock is not set per call here: threads would race on it
                _, action, args = calls[(index * per_thread + n) % len(calls)]
                before = ns()
                check(action, args=args)
                mine.append(ns() - before)
                counts[index] += 1
                if n % 50 == 0 and time.perf_counter() > deadline:
                    break

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in workers:
            thread.start()
        barrier.wait()
        cpu_started = time.process_time()
        started = ns()
        for thread in workers:
            thread.join()
        issued = ns()
        guard.close()
        flushed = ns()
        cpu_s = time.process_time() - cpu_started
        rows, ok, checked, problem = _reopen_and_verify(path)
        size = _db_bytes(path)
    done = sum(counts)
    samples = [value for chunk in latencies for value in chunk]
    return _result(
        "sync",
        threads,
        policy_set,
        done,
        warmup,
        started,
        issued,
        flushed,
        samples,
        rows,
        ok,
        checked,
        problem,
        0,
        done < per_thread * threads,
        size,
        cpu_s,
    )


def _result(
    durability: str,
    threads: int,
    policy_set: Any,
    done: int,
    warmup: int,
    started: int,
    issued: int,
    flushed: int,
    samples: list[int],
    rows: int,
    ok: bool,
    checked: int,
    problem: str | None,
    mismatches: int,
    time_bounded: bool,
    size: int,
    cpu_s: float,
) -> FullCheckResult:
    samples.sort()
    issue_s = (issued - started) / 1e9
    flush_s = (flushed - issued) / 1e9
    expected_rows = done + warmup
    return FullCheckResult(
        durability=durability,
        threads=threads,
        rules=len(policy_set),
        checks=done,
        warmup_checks=warmup,
        seconds_issue=round(issue_s, 4),
        seconds_flush=round(flush_s, 4),
        checks_per_s_issued=done / issue_s if issue_s else float("nan"),
        checks_per_s_durable=done / (issue_s + flush_s) if issue_s + flush_s else float("nan"),
        cpu_us_per_check=cpu_s / done * 1e6 if done else float("nan"),
        p50_us=percentile(samples, 0.5) / 1000,
        p99_us=percentile(samples, 0.99) / 1000,
        expected_rows=expected_rows,
        rows=rows,
        lost=expected_rows - rows,
        verify_ok=ok,
        verify_checked=checked,
        verify_problem=problem,
        decision_mismatches=mismatches,
        time_bounded=time_bounded,
        db_bytes=size,
    )


# -- attribution: where the time of one full check goes ------------------------------------


class CapturingStore:
    """An audit store that keeps events in a list: the check path without any storage cost."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.append_event = self.events.append

    def append(self, event: Any, *, wait: bool = False) -> None:
        self.append_event(event)

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


def attribute_costs(
    policy_set: Any, requests: list[BenchRequest], *, checks: int = 20_000
) -> dict[str, Any]:
    """µs per check of (a) the check path with no store, (b) the SQLite writer alone.

    (a) runs ``Proctor.check`` against a store that only keeps the events.
    (b) appends those events to a fresh batched SQLite store while the calling
    thread waits in ``flush()``, so the writer thread has the interpreter to
    itself. Both run Python under one GIL, so in the full run their sum bounds
    the sustained rate from above: 1e6 / (a + b) checks/s.
    """
    from proctor.clock import DecisionIds
    from proctor.storage import open_audit_store

    calls = [(r.now, r.action, r.args) for r in requests]
    store = CapturingStore()
    guard, clock = build_guard(policy_set, store, requests[0].now)
    for now, action, args in calls:  # warm-up
        clock.set(now)
        guard.check(action, args=args)
    store.events.clear()
    gc.collect()
    gc.disable()
    try:
        start = ns()
        for n in range(checks):
            now, action, args = calls[n % len(calls)]
            clock.set(now)
            guard.check(action, args=args)
        check_ns = ns() - start
    finally:
        gc.enable()
    events = list(store.events)
    ids = DecisionIds()
    ids_start = ns()
    for _ in range(checks):
        ids()
    ids_ns = ns() - ids_start
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        sqlite = open_audit_store(str(Path(tmp) / "audit.db"), durability="batched")
        gc.collect()
        gc.disable()
        try:
            start = ns()
            for event in events:
                sqlite.append(event)
            sqlite.flush()
            writer_ns = ns() - start
        finally:
            gc.enable()
        rows = sqlite.count()
        sqlite.close()
    encode_start = ns()
    for seq, event in enumerate(events, 1):
        writer_record_work(event, seq)
    encode_ns = ns() - encode_start
    check_us = check_ns / checks / 1000
    writer_us = writer_ns / len(events) / 1000
    return {
        "checks": checks,
        "check_path_no_store_us": check_us,
        "decision_id_us_idle": ids_ns / checks / 1000,
        "sqlite_writer_alone_us": writer_us,
        "writer_python_per_record_us": encode_ns / len(events) / 1000,
        "writer_rows": rows,
        "sum_us": check_us + writer_us,
        "bound_checks_per_s": 1e6 / (check_us + writer_us),
        "events": events[:2000],  # for profiling the writer's per-record work; not serialized
    }


def writer_record_work(event: Any, seq: int = 1, prev_hash: str = "0" * 64) -> Any:
    """The writer thread's Python work for one record, minus the SQLite insert itself."""
    from proctor.audit.chain import chain_event, event_columns

    chained = chain_event(event, seq, prev_hash)
    return (seq, *event_columns(event), prev_hash, chained.body.decode("utf-8"))
