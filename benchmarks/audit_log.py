"""The audit log's targets (issue 21): the tree's cost on the full check, proofs, checkpoints,
writers on one PostgreSQL, and ``audit verify --checkpoints`` over a large log.

    python -m benchmarks.audit_log [--quick] [--base REV] [--skip-postgres]

1. Full check (SQLite, batched) with the sharded tree against the chain of
   ``--base`` (default ``HEAD~1``): the same benchmark code runs over both
   source trees, interleaved, in this run; the ratio of medians must be >= 0.95.
2. Inclusion proof in a 10,000,000-record log: a synthetic tree whose blocks
   of leaves repeat (so its stored levels cost nothing to build) read through the
   same ``TreeReader`` a store uses; produce <= 1 ms, verify <= 0.2 ms; a
   checkpoint (lead, consistency proof, sign, store) <= 1 ms.
3. Writer processes without HTTP on one PostgreSQL (1, 2, 4 writers, same
   batch size), for both source trees: records/s and the share of samples in
   which a writer waited on a lock (``pg_stat_activity``).
4. ``verify --checkpoints`` over a SQLite log with a checkpoint per 1,000
   records (1,000,000 records; 100,000 with ``--quick``, scaled).

Results go to ``benchmarks/results/audit_log.json``. Ratios, not absolute
figures, are what the targets judge: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "audit_log.json"
ns = time.perf_counter_ns


# -- 1. the full check, tree against the previous commit's chain --------------------------------


def base_tree(rev: str, into: Path) -> Path:
    """``src/`` of ``rev`` unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def one_full_check(checks: int) -> float:
    """Checks/s (durable) of one batched full-check run with the source tree on the path."""
    from datetime import UTC

    from benchmarks.full_check import run_batched
    from benchmarks.generate import generate_requests, generate_rules, pool_stats, to_proctor_yaml
    from proctor.policy import load_policies

    rules = generate_rules(1000)
    pool = generate_requests(rules, 4000)
    _, expected = pool_stats(rules, pool)
    policy_set = load_policies(texts=[to_proctor_yaml(rules)], timezone=UTC)
    result = run_batched(policy_set, pool, expected, checks=checks, budget_s=60.0)
    if result.lost or not result.verify_ok:
        raise SystemExit(f"the full check lost records or failed verify: {result}")
    return float(result.checks_per_s_durable)


def _in_tree(src: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return done.stdout.strip().splitlines()[-1]


def ab_full_check(base: Path, rounds: int, checks: int) -> dict[str, Any]:
    code = f"from benchmarks.audit_log import one_full_check; print(one_full_check({checks}))"
    runs: dict[str, list[float]] = {"base": [], "tree": []}
    for _ in range(rounds):  # interleaved, so both see the same machine
        runs["base"].append(float(_in_tree(base, code)))
        runs["tree"].append(float(_in_tree(ROOT / "src", code)))
    ratio = statistics.median(runs["tree"]) / statistics.median(runs["base"])
    return {"checks": checks, "runs": runs, "ratio": ratio, "target": 0.95, "met": ratio >= 0.95}


# -- 2. proofs and checkpoints in a 10,000,000-record log ----------------------------------------


class PeriodicTree:
    """A tree of ``size`` leaves whose every tile of leaves is the same: stored levels are
    the same hash all along, so a ten-million-leaf tree needs no ten million hashes."""

    def __init__(self, size: int, first: bytes) -> None:
        from proctor.audit.merkle import STRIDE, TILE, fold, leaf_hash

        self.size = size
        self.block = [leaf_hash(first if i == 0 else f"record {i}".encode()) for i in range(TILE)]
        self.levels = {0: self.block}
        node = fold(self.block)
        for level in range(STRIDE, 64, STRIDE):
            self.levels[level] = [node] * TILE
            node = fold(self.levels[level])
        self.reads = 0

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        self.reads += 1
        end = min(end, self.size >> level)
        return [self.levels[level][i % len(self.block)] for i in range(start, end)]


def proofs(size: int = 10_000_000, samples: int = 300) -> dict[str, Any]:
    import random

    from proctor.audit.checkpoint import Checkpoint, ShardHead
    from proctor.audit.merkle import TreeReader, inclusion_proof, root_from_inclusion
    from proctor.audit.note import sign_note
    from proctor.audit.proofs import inclusion_document, verify_inclusion
    from proctor.runtime.note_signers import KeyFileSigner

    body = '{"decision_id":"d","seq":1,"shard":1}'  # leaf 0 (and the first of every tile)
    tree = PeriodicTree(size, body.encode())
    root = TreeReader(tree).subtree(0, size)
    rng = random.Random(21)
    produce, verify, verify_document, reads = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        signer = KeyFileSigner(Path(tmp) / "key.pem", "bench/log")
    note = sign_note(
        Checkpoint("bench/log", 1, "2026-12-07T00:00:00Z", (ShardHead(1, size, root),)).text(),
        signer,
    ).encode()
    for _ in range(samples):
        index = rng.randrange(size)
        tree.reads = 0
        start = ns()
        path = inclusion_proof(TreeReader(tree), index, size)
        produce.append((ns() - start) / 1e3)
        reads.append(tree.reads)
        leaf = tree.block[index % len(tree.block)]
        start = ns()
        assert root_from_inclusion(leaf, index, size, path) == root
        verify.append((ns() - start) / 1e3)
    document = inclusion_document(
        body=body, decision_id="d", shard=1, index=0, size=size,
        path=inclusion_proof(TreeReader(tree), 0, size), note=note,
    )  # fmt: skip
    for _ in range(samples):
        start = ns()
        assert verify_inclusion(document, signer.verifier).ok
        verify_document.append((ns() - start) / 1e3)
    return {
        "size": size,
        "produce_us": _summary(produce),
        "hash_reads_per_proof": max(reads),
        "verify_path_us": _summary(verify),
        "verify_document_us (signature included)": _summary(verify_document),
        "checkpoint_us": _checkpoint_cost(tree, signer, size),
        "targets": {"produce_us": 1000, "verify_path_us": 200, "checkpoint_us": 1000},
    }


def _checkpoint_cost(tree: PeriodicTree, signer: Any, size: int) -> dict[str, float]:
    """``Checkpointer.make`` after 1,000 more records: lead, consistency proof, sign, store."""
    from proctor.audit.checkpoint import ShardHead
    from proctor.audit.merkle import TreeReader
    from proctor.runtime.checkpoints import Checkpointer

    class Log:
        def __init__(self) -> None:
            self.notes: dict[int, str] = {}
            self.size = size - 1000

        def shard_heads(self) -> list[ShardHead]:
            return [ShardHead(1, self.size, TreeReader(tree).subtree(0, self.size))]

        def tree_source(self, shard: int) -> PeriodicTree:
            return tree

        def latest_checkpoint(self) -> tuple[int, str] | None:
            return max(self.notes.items()) if self.notes else None

        def store_checkpoint(self, number: int, time: str, size: int, note: str) -> None:
            self.notes[number] = note

        def lead_checkpoints(self, owner: str, now: float, lease: float) -> bool:
            return True

    log = Log()
    maker = Checkpointer(log, signer, origin="bench/log")
    maker.make()
    costs = []
    for _ in range(50):
        log.size += 1000
        log.size = min(log.size, size)
        start = ns()
        maker.make(even_if_unchanged=True)
        costs.append((ns() - start) / 1e3)
    return _summary(costs)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


# -- 3. writer processes on one PostgreSQL -------------------------------------------------------


def bench_event(decision_id: str, order: int) -> Any:
    from proctor.model.audit_event import AuditEvent

    return AuditEvent(
        kind="decision",
        decision_id=decision_id,
        ts="2026-12-07T00:00:00.000000Z",
        agent={"id": "bench", "role": "r", "tier": "verified", "tags": []},
        action="read:orders",
        args={"order": order},
        args_digest="sha256:0",
        effect="allow",
        rule_ids=("r",),
        reason="bench",
    )


def one_writer(url: str, records: int, batch: int, tag: str) -> str:
    """Append ``records`` events through a PostgreSQL store; prints start and end (epoch s)."""
    from proctor.storage.postgres.audit_store import PostgresAuditStore

    store = PostgresAuditStore(url, batch_size=batch)
    events = [bench_event(f"{tag}-{i}", i) for i in range(records)]
    start = time.time()
    for event in events:
        store.append(event)
    store.flush()
    end = time.time()
    store.close()
    return json.dumps([start, end])


class LockSampler:
    """Samples ``pg_stat_activity`` every 5 ms: how often an active backend waits on a lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.waits = self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def share(self) -> float:
        return self.waits / self.samples if self.samples else 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.005):
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) "
                    "FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchone()
                if row is not None and row[1]:
                    self.waits += int(row[0])
                    self.samples += int(row[1])


def writers(
    src: Path, url: str, counts: tuple[int, ...], records: int, batch: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for count in counts:
        code = (
            "import sys; from benchmarks.audit_log import one_writer; "
            f"print(one_writer({url!r}, {records}, {batch}, sys.argv[1]))"
        )
        env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
        sampler = LockSampler(url)
        sampler.start()
        tag = f"w{count}-{time.time_ns()}"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", code, f"{tag}-{n}"],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(count)
        ]
        spans = [
            json.loads(p.communicate(timeout=900)[0].strip().splitlines()[-1]) for p in processes
        ]
        sampler.stop()
        seconds = max(e for _, e in spans) - min(s for s, _ in spans)
        out[str(count)] = {
            "records_per_s": count * records / seconds,
            "lock_wait_share": sampler.share,
        }
    one = out[str(counts[0])]["records_per_s"]
    for count in counts:
        out[str(count)]["speedup"] = out[str(count)]["records_per_s"] / one
    return out


# -- 4. verify --checkpoints over a large log ----------------------------------------------------


def verify_large(records: int) -> dict[str, Any]:
    from proctor.runtime.audit_proofs import verify_witnessed
    from proctor.runtime.checkpoints import Checkpointer, FileWitness
    from proctor.runtime.note_signers import KeyFileSigner
    from proctor.storage.sqlite.audit_store import SqliteAuditStore

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        witness = Path(tmp) / "witness.txt"
        signer = KeyFileSigner(Path(tmp) / "key.pem", "bench/log")
        with SqliteAuditStore(path, batch_size=1000) as store:
            maker = Checkpointer(
                store, signer, origin="bench/log", witnesses=[FileWitness(witness)]
            )
            for start in range(0, records, 1000):
                for i in range(start, min(records, start + 1000)):
                    store.append(bench_event(f"d{i}", i))
                store.flush()
                maker.make()
        with SqliteAuditStore(path, read_only=True) as store:
            start_ns = ns()
            report = verify_witnessed(store, witness.read_text(), signer.verifier)
            seconds = (ns() - start_ns) / 1e9
    return {
        "records": records,
        "checkpoints": records // 1000,
        "ok": report.ok,
        "seconds": seconds,
        "seconds_per_million": seconds * 1_000_000 / records,
        "target_seconds_per_million": 30,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--base", default="HEAD~1", help="the chain's commit for the A/B")
    parser.add_argument("--skip-postgres", action="store_true")
    options = parser.parse_args(argv)
    results: dict[str, Any] = {"base": options.base}
    with tempfile.TemporaryDirectory() as tmp:
        base = base_tree(options.base, Path(tmp))
        print("proofs and checkpoints in a 10,000,000-record log", flush=True)
        results["proofs"] = proofs(samples=100 if options.quick else 300)
        print(json.dumps(results["proofs"], indent=1), flush=True)
        print("full check: tree against the base's chain", flush=True)
        results["full_check"] = ab_full_check(
            base, rounds=3 if options.quick else 5, checks=10_000 if options.quick else 30_000
        )
        print(json.dumps(results["full_check"], indent=1), flush=True)
        if not options.skip_postgres:
            sys.path.insert(0, str(ROOT))
            from tests.postgres_cluster import start_cluster

            cluster = start_cluster()
            try:
                records = 3_000 if options.quick else 10_000
                for name, src in (("base", base), ("tree", ROOT / "src")):
                    print(f"writers on one PostgreSQL: {name}", flush=True)
                    url = cluster.database(f"bench_{name}_{os.getpid()}")
                    results[f"writers_{name}"] = writers(src, url, (1, 2, 4), records, 128)
                    print(json.dumps(results[f"writers_{name}"], indent=1), flush=True)
            finally:
                cluster.stop()
        print("verify --checkpoints", flush=True)
        results["verify"] = verify_large(100_000 if options.quick else 1_000_000)
        print(json.dumps(results["verify"], indent=1), flush=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
