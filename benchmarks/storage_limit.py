"""The storage limit: how fast SQLite alone takes the records a full check writes.

The full check's throughput is compared with this, in the same run, rather than
with an absolute figure a busier day cannot reach. The records are the ones
``Proctor.check`` produces for the bench's pool (captured by ``CapturingStore``),
chained, hashed and laid out as rows and Merkle nodes before the clock starts
(``build_batch``, the audit writer's own code), then inserted into a fresh
audit database (the real schema) with the writer's pragmas (``configure_writer``:
WAL, the same ``synchronous`` level), its group size and its statements
(``Statements.insert_all``: INSERTs of many rows), one transaction per group.
What is left is the storage's own cost: the bare loop the issue calls the
storage limit.
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from benchmarks.full_check import CapturingStore, build_guard, run_batched
from benchmarks.generate import BenchRequest

GROUP = 512  # the SQLite audit writer's default batch_size


def captured_events(policy_set: Any, requests: list[BenchRequest], checks: int) -> list[Any]:
    """The audit events of ``checks`` full checks over the pool, kept instead of stored."""
    store = CapturingStore()
    guard, clock = build_guard(policy_set, store, requests[0].now)
    for n in range(checks):
        request = requests[n % len(requests)]
        clock.set(request.now)
        guard.check(request.action, args=request.args)
    return store.events


def measure(
    events: list[Any], *, durability: Literal["batched", "sync"] = "batched"
) -> dict[str, Any]:
    """Records per second that SQLite commits, in groups of ``GROUP``, with no Python
    work per record but the insert."""
    from proctor.audit.chain import GENESIS_HASH
    from proctor.audit.merkle import Frontier
    from proctor.storage import open_audit_store
    from proctor.storage.sql.audit_log import (
        AUDIT_COLUMNS,
        NODE_COLUMNS,
        ShardState,
        build_batch,
    )
    from proctor.storage.sql.dialect import SQLITE, Statements
    from proctor.storage.sqlite.connection import configure_writer, connect

    state = ShardState(1, 0, GENESIS_HASH, Frontier())
    batches = []
    for start in range(0, len(events), GROUP):
        batch = build_batch(state, events[start : start + GROUP])
        assert batch.after is not None
        assert not batch.rejected
        state = batch.after
        batches.append(batch)
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        path = str(Path(tmp) / "audit.db")
        open_audit_store(path, durability=durability).close()  # the schema, as a store makes it
        conn = connect(path, busy_timeout=5.0)
        configure_writer(conn, path, durability)
        gc.collect()
        gc.disable()
        try:
            cpu_started = time.process_time()
            started = time.perf_counter_ns()
            for batch in batches:
                after = batch.after
                assert after is not None
                conn.execute("BEGIN IMMEDIATE")
                statements = Statements(conn, SQLITE)  # the writer's own INSERTs of many rows
                statements.insert_all("audit", AUDIT_COLUMNS, batch.rows)
                statements.insert_all("audit_nodes", NODE_COLUMNS, batch.nodes)
                conn.execute(
                    "UPDATE audit_shards SET size = ?, hash = ? WHERE shard = ?",
                    (after.size, after.hash, after.shard),
                )
                conn.execute("COMMIT")
            elapsed = time.perf_counter_ns() - started
            cpu_s = time.process_time() - cpu_started
        finally:
            gc.enable()
            conn.close()
    return {
        "records": len(events),
        "group": GROUP,
        "durability": durability,
        "records_per_s": len(events) / (elapsed / 1e9),
        # the same figure in CPU time: on a machine shared with other work the wall clock
        # includes waiting for a core, the CPU time does not
        "cpu_us_per_record": cpu_s / len(events) * 1e6,
    }


def beside_full_checks(
    policy_set: Any,
    requests: list[BenchRequest],
    expected: list[bool],
    *,
    checks: int,
    rounds: int,
) -> dict[str, Any]:
    """``rounds`` pairs of a batched full check and SQLite alone taking as many records.

    As many: a file's cost per record grows with the file (its indexes get
    deeper and a commit touches more pages), so the yardstick takes the count
    the full check stored, not a smaller sample of it. Each pair is timed back
    to back and gives one ratio; the figure is the median ratio, and the pair
    it came from is the one reported (a pair that lost or broke a record is
    reported before any other).
    """
    pairs = []
    events: list[Any] = []
    for _ in range(rounds):
        full = run_batched(policy_set, requests, expected, checks=checks).to_dict()
        if len(events) != full["expected_rows"]:
            events = captured_events(policy_set, requests, full["expected_rows"])
        limit = measure(events)
        ratio = full["checks_per_s_durable"] / limit["records_per_s"]
        pairs.append({"batched": full, "storage_limit": limit, "ratio": ratio})
    broken = [p for p in pairs if p["batched"]["lost"] or not p["batched"]["verify_ok"]]
    chosen = broken[0] if broken else sorted(pairs, key=lambda p: p["ratio"])[len(pairs) // 2]
    return {
        "batched": chosen["batched"],
        "storage_limit": chosen["storage_limit"],
        "ratio_to_storage_limit": chosen["ratio"],
        "rounds": [
            {
                "durable_per_s": p["batched"]["checks_per_s_durable"],
                "storage_limit_per_s": p["storage_limit"]["records_per_s"],
                "ratio": p["ratio"],
                "lost": p["batched"]["lost"],
            }
            for p in pairs
        ],
    }
