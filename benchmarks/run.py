"""``make bench``: proctor's engine against cedarpy and regopy, and the full check path.

    .venv/bin/python -m benchmarks.run            # the full run (under ~10 minutes)
    .venv/bin/python -m benchmarks.run --quick    # 10 and 1,000 rules, short budgets

Steps, per policy size (10, 1,000, 10,000 rules):

1. generate the rules and a request pool (seeded, ``benchmarks.generate``);
2. compile for each engine (proctor, Cedar, Rego), timing the compile;
3. cross-check: every engine's allow/deny must equal proctor's on the pool
   (and proctor's must equal the generator's reference semantics); any
   mismatch prints the first few and exits 1 before anything is timed;
4. time each engine (``benchmarks.measure``), slower peers bounded by time.

Then the full ``Proctor.check`` path with a SQLite audit file (batched, and
sync from 8 threads), the ratios and the targets. Results go to the terminal
(rich tables) and to ``benchmarks/results/latest.json`` and ``latest.md``.
Exit status: 1 on a cross-check mismatch or a lost audit record; with
``--strict`` also when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks import gateway as gateway_bench
from benchmarks import identity as identity_bench
from benchmarks import indexed, storage_limit
from benchmarks import limits as limits_bench
from benchmarks import mcp_proxy as mcp_proxy_bench
from benchmarks.engines import ProctorEngine
from benchmarks.full_check import (
    CapturingStore,
    attribute_costs,
    build_guard,
    run_sync,
    writer_record_work,
)
from benchmarks.generate import DEFAULT_SEED, generate_requests, generate_rules, pool_stats
from benchmarks.hotspots import component_costs, profile_calls
from benchmarks.measure import measure_batch_throughput, measure_latency, timer_overhead_ns
from benchmarks.report import print_report, write_markdown
from benchmarks.translate_cedar import CedarEngine
from benchmarks.translate_rego import RegoEngine

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (10, 1_000, 10_000)
HEADLINE = 1_000  # the size the ratios and the full check use
MISMATCHES_SHOWN = 5

TARGET_P50_US = 3.0  # at HEADLINE rules, the request built inside the timed call
TARGET_P50_LARGEST_US = 5.0  # at 10,000 rules
TARGET_LOAD_LARGEST_S = 0.5  # loading 10,000 rules from their text
TARGET_VS_CEDAR = 200.0
TARGET_VS_REGO = 200.0
TARGET_CHECKS_PER_S = 20_000.0
TARGET_OVER_STORAGE_LIMIT = 0.5  # of SQLite alone taking the same records, same run


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse(argv)
    began = time.perf_counter()
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 160)
    sizes = (10, HEADLINE) if options.quick else SIZES
    peer_budget = 4.0 if options.quick else options.peer_budget
    check_budget = 8.0 if options.quick else options.crosscheck_budget
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": {
            "seed": options.seed,
            "pool_size": options.pool,
            "sizes": list(sizes),
            "quick": options.quick,
            "peer_budget_s": peer_budget,
            "crosscheck_budget_s": check_budget,
            "proctor_rounds": options.rounds_proctor,
            "peer_rounds": options.rounds_peer,
            "full_check_rules": HEADLINE,
            "batched_checks": options.checks,
            "sync_threads": options.threads,
            "sync_checks": options.sync_checks,
        },
        "timer_overhead_ns": timer_overhead_ns(),
        "fast_paths": {
            "proctor": ProctorEngine.fast_path,
            "cedarpy": CedarEngine.fast_path,
            "regopy": RegoEngine.fast_path,
            "indexed floor": indexed.FAST_PATH,
        },
        "sizes": {},
    }
    headline_engine: ProctorEngine | None = None
    headline_pool: list[Any] = []
    headline_reference: list[bool] = []
    for size in sizes:
        console.log(f"[bold]{size:,} rules[/]: generating the policy set and the request pool")
        rules = generate_rules(size, options.seed)
        pool = generate_requests(rules, options.pool, options.seed)
        stats, reference = pool_stats(rules, pool)
        entry: dict[str, Any] = {
            "pool": _plain(stats),
            "compile_s": {},
            "cross_check": {},
            "latency": {},
        }
        results["sizes"][str(size)] = entry
        engines: list[Any] = []
        for engine_type in (ProctorEngine, CedarEngine, RegoEngine):
            console.log(f"  compiling for {engine_type.name}")
            engine = engine_type(rules)
            entry["compile_s"][engine.name] = engine.load_seconds  # translation not counted
            engines.append(engine)
        proctor = engines[0]
        prepared = {engine.name: [engine.prepare(r) for r in pool] for engine in engines}
        # cross-check: proctor against the reference, the peers against proctor
        console.log("  cross-checking decisions")
        baseline = _cross_check(proctor, prepared["proctor"], reference, math.inf)
        entry["cross_check"]["proctor_vs_reference"] = baseline.pop("_report")
        proctor_allowed = baseline.pop("_allowed")
        failures = _mismatch_lines("proctor", "reference", entry, pool)
        costs: dict[str, float] = {"proctor": baseline.pop("_cost")}
        for engine in engines[1:]:
            checked = _cross_check(engine, prepared[engine.name], proctor_allowed, check_budget)
            entry["cross_check"][engine.name] = checked.pop("_report")
            costs[engine.name] = checked.pop("_cost")
            failures += _mismatch_lines(engine.name, "proctor", entry, pool)
        if failures:
            for line in failures:
                console.print(line, markup=False)
            _write(results, console, began, options.out, partial=True)
            return 1
        for engine in engines:
            console.log(f"  timing {engine.name}")
            is_proctor = engine.name == "proctor"
            result = measure_latency(
                engine.decide,
                prepared[engine.name],
                rounds=options.rounds_proctor if is_proctor else options.rounds_peer,
                budget_s=peer_budget,
                warmup=len(pool) if is_proctor else 100,
                cost_s=costs[engine.name],
            )
            entry["latency"][engine.name] = result.to_dict()
        console.log("  timing proctor beside the indexed floor, round by round")
        floor = indexed.beside_proctor(rules, pool, reference, proctor.decide, prepared["proctor"])
        entry["indexed_floor"] = floor
        if floor["mismatches"]:
            console.print(f"MISMATCH: the indexed floor disagrees with the reference {floor}")
            _write(results, console, began, options.out, partial=True)
            return 1
        cedar = engines[1]
        batch = prepared["cedarpy"]
        affordable = int(peer_budget / 4 / max(costs["cedarpy"], 1e-9))
        entry["cedarpy_batch"] = {
            "decisions_per_s": measure_batch_throughput(
                cedar.decide_batch,
                batch[: max(20, min(len(batch), affordable))],
                budget_s=peer_budget / 2,
            ),
            "batch_size": max(20, min(len(batch), affordable)),
        }
        if size == HEADLINE:
            headline_engine, headline_pool, headline_reference = proctor, pool, reference
        del engines, prepared

    if headline_engine is not None:
        rounds = 1 if options.quick else options.full_rounds
        console.log(
            f"full check, batched durability: {rounds} rounds of up to {options.checks:,} "
            "checks, each beside SQLite alone taking as many records (the storage limit)"
        )
        paired = storage_limit.beside_full_checks(
            headline_engine.policy_set,
            headline_pool,
            headline_reference,
            checks=options.checks if not options.quick else min(options.checks, 20_000),
            rounds=rounds,
        )
        console.log(f"full check, sync durability: {options.threads} threads")
        synced = run_sync(
            headline_engine.policy_set,
            headline_pool,
            threads=options.threads,
            checks=options.sync_checks,
            budget_s=peer_budget,
        )
        results["full_check"] = {**paired, "sync": synced.to_dict()}
        results["full_check"]["sqlite_version"] = sqlite3.sqlite_version
    console.log("identity: checks with delegation tokens, token exchange")
    results["identity"] = identity_bench.measure(rounds=3 if options.quick else 7)
    console.log("limits: checks that update two counters (SQLite, PostgreSQL); policy replay")
    results["limits"] = limits_bench.measure(quick=options.quick)
    console.log("gateway: POST /v1/check beside a bare Starlette app, concurrency 32")
    previous_gateway = gateway_bench.previous_results(options.out)
    results["gateway"] = gateway_bench.measure(quick=options.quick, previous=previous_gateway)
    gateway_bench.save(results["gateway"], options.out)
    console.log("mcp proxy: added latency per tools/call, direct vs through the proxy")
    results["mcp_proxy"] = mcp_proxy_bench.measure(quick=options.quick)
    results["ratios"] = ratios(results)
    results["targets"] = targets(results)
    missed = any(t["passed"] is False for t in results["targets"])
    if (missed or options.profile) and headline_engine is not None:
        console.log("profiling proctor's code path (cProfile)")
        results["hotspots"] = hotspots(headline_engine, headline_pool)
        headline = results["sizes"].get(str(HEADLINE))
        if headline:
            engine_p50 = headline["latency"]["proctor"]["p50_us"]
            results["hotspots"]["attribution"]["engine_p50_us"] = engine_p50
    _write(results, console, began, options.out)
    print_report(results, console)
    console.print(gateway_bench.report(results["gateway"]), markup=False)
    lost = False
    for key in ("batched", "sync"):
        run = results.get("full_check", {}).get(key)
        if run and (run["lost"] != 0 or not run["verify_ok"] or run["decision_mismatches"]):
            lost = True
            console.print(
                f"[bold red]FAILED[/] full check ({key}): {run['lost']} records lost, "
                f"verify ok={run['verify_ok']}, {run['decision_mismatches']} decisions that "
                "differ from the engine's"
            )
    return 1 if lost or (options.strict and missed) else 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 and 1,000 rules, short budgets")
    parser.add_argument("--profile", action="store_true", help="profile even when all pass")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for latest.*")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--pool", type=int, default=2_000, help="requests in the pool")
    parser.add_argument("--peer-budget", type=float, default=20.0, help="seconds per engine")
    parser.add_argument("--crosscheck-budget", type=float, default=30.0, help="seconds per peer")
    parser.add_argument("--rounds-proctor", type=int, default=9)
    parser.add_argument("--rounds-peer", type=int, default=5)
    parser.add_argument("--checks", type=int, default=100_000, help="batched full checks")
    parser.add_argument(
        "--full-rounds", type=int, default=3, help="full checks, each beside the storage limit"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads for the sync run")
    parser.add_argument("--sync-checks", type=int, default=16_000, help="sync full checks")
    return parser.parse_args(argv)


# -- steps ---------------------------------------------------------------------------------


def _cross_check(
    engine: Any, inputs: list[Any], expected: list[bool], budget_s: float
) -> dict[str, Any]:
    """Decide the pool in order (within ``budget_s``) and compare with ``expected``."""
    decide, allowed = engine.decide, engine.allowed
    got: list[bool] = []
    start = time.perf_counter()
    for value in inputs:
        got.append(allowed(decide(value)))
        if time.perf_counter() - start > budget_s:
            break
    elapsed = time.perf_counter() - start
    mismatches = [i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e]
    report = {
        "checked": len(got),
        "pool": len(inputs),
        "agreed": len(got) - len(mismatches),
        "mismatches": len(mismatches),
        "first_mismatches": [
            {"index": i, "expected_allowed": expected[i], "got_allowed": got[i]}
            for i in mismatches[:MISMATCHES_SHOWN]
        ],
        "time_bounded": len(got) < len(inputs),
        "seconds": elapsed,
        "allowed": sum(got),
    }
    return {"_report": report, "_allowed": got, "_cost": elapsed / max(len(got), 1)}


def _mismatch_lines(name: str, against: str, entry: dict[str, Any], pool: list[Any]) -> list[str]:
    key = "proctor_vs_reference" if name == "proctor" else name
    report = entry["cross_check"][key]
    if not report["mismatches"]:
        return []
    lines = [
        f"MISMATCH: {name} disagrees with {against} on {report['mismatches']} of "
        f"{report['checked']} requests; first ones:"
    ]
    for item in report["first_mismatches"]:
        said = {True: "allow", False: "deny"}
        lines.append(
            f"  #{item['index']}: {against} {said[item['expected_allowed']]}, "
            f"{name} {said[item['got_allowed']]}: {pool[item['index']]}"
        )
    return lines


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    sizes = results["sizes"]
    out: dict[str, Any] = {}
    headline = sizes.get(str(HEADLINE))
    if headline:
        latency = headline["latency"]
        mine = latency["proctor"]
        for peer in ("cedarpy", "regopy"):
            out[f"{peer}_over_proctor_p50_at_{HEADLINE}"] = latency[peer]["p50_us"] / mine["p50_us"]
            out[f"proctor_over_{peer}_throughput_at_{HEADLINE}"] = (
                mine["throughput_per_s"] / latency[peer]["throughput_per_s"]
            )
    for size, entry in sizes.items():
        floor = entry.get("indexed_floor")
        if floor:
            out[f"proctor_over_indexed_p50_at_{size}"] = floor["proctor_over_indexed_p50"]
    small, large = sizes.get("10"), sizes.get("10000")
    if small and large:
        out["proctor_p50_10000_over_10"] = (
            large["latency"]["proctor"]["p50_us"] / small["latency"]["proctor"]["p50_us"]
        )
        out["proctor_p50_per_candidate_10000_over_10"] = (
            large["latency"]["proctor"]["p50_us"]
            / max(large["pool"]["candidates_mean"], 1e-9)
            / (small["latency"]["proctor"]["p50_us"] / max(small["pool"]["candidates_mean"], 1e-9))
        )
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    sizes, ratio = results["sizes"], results["ratios"]
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, threshold: float, unit: str, higher: bool) -> None:
        passed = None if value is None else (value >= threshold if higher else value <= threshold)
        rows.append(
            {
                "target": name,
                "value": value,
                "threshold": threshold,
                "unit": unit,
                "comparison": ">=" if higher else "<=",
                "passed": passed,
            }
        )

    headline = sizes.get(str(HEADLINE))
    add(
        f"engine p50 at {HEADLINE:,} rules",
        headline["latency"]["proctor"]["p50_us"] if headline else None,
        TARGET_P50_US,
        "µs",
        False,
    )
    largest = sizes.get("10000")
    add(
        "engine p50 at 10,000 rules",
        largest["latency"]["proctor"]["p50_us"] if largest else None,
        TARGET_P50_LARGEST_US,
        "µs",
        False,
    )
    add(
        "loading 10,000 rules from their text",
        largest["compile_s"]["proctor"] if largest else None,
        TARGET_LOAD_LARGEST_S,
        "s",
        False,
    )
    add(
        f"cedarpy p50 / proctor p50 at {HEADLINE:,}",
        ratio.get(f"cedarpy_over_proctor_p50_at_{HEADLINE}"),
        TARGET_VS_CEDAR,
        "×",
        True,
    )
    add(
        f"regopy p50 / proctor p50 at {HEADLINE:,}",
        ratio.get(f"regopy_over_proctor_p50_at_{HEADLINE}"),
        TARGET_VS_REGO,
        "×",
        True,
    )
    batched = results.get("full_check", {}).get("batched")
    durable = None
    if batched:
        durable = batched["checks_per_s_durable"] if batched["lost"] == 0 else 0.0
    add(
        "full check(), batched SQLite audit, durable checks/s, 0 lost",
        durable,
        TARGET_CHECKS_PER_S,
        "/s",
        True,
    )
    add(
        "full check() durable checks/s ÷ SQLite alone taking the same records",
        0.0 if durable == 0.0 else results.get("full_check", {}).get("ratio_to_storage_limit"),
        TARGET_OVER_STORAGE_LIMIT,
        "×",
        True,
    )
    rows.extend(results.get("identity", {}).get("targets", []))
    rows.extend(results.get("limits", {}).get("targets", []))
    rows.extend(results.get("mcp_proxy", {}).get("targets", []))
    return rows


def hotspots(engine: ProctorEngine, pool: list[Any]) -> dict[str, Any]:
    """cProfile of the engine, of the check path and of the audit writer's per-record work.

    The check path is profiled against a store that only keeps the events, so
    the SQLite writer thread (which cProfile would not see, and which takes the
    GIL whenever the checking thread releases it) does not blur it; the
    writer's Python work per record is profiled on its own.
    """
    prepared = [engine.prepare(r) for r in pool]
    for value in prepared:  # warm the action index memo, as in the timed runs
        engine.decide(value)
    spots, per_decision = profile_calls(engine.decide, prepared, repeat=3)
    report: dict[str, Any] = {
        "engine": {
            "rules": len(engine.policy_set),
            "profiled_us_per_decision": per_decision,
            "top": [s.to_dict() for s in spots],
        }
    }
    attribution = attribute_costs(engine.policy_set, pool)
    events = attribution.pop("events")
    report["attribution"] = attribution

    store = CapturingStore()
    guard, clock = build_guard(engine.policy_set, store, pool[0].now)
    calls = [(r.now, r.action, r.args) for r in pool]

    def one(call: tuple[Any, str, dict[str, Any]]) -> Any:
        clock.set(call[0])
        return guard.check(call[1], args=call[2])

    for call in calls:
        one(call)
    spots, per_check = profile_calls(one, calls, repeat=2, top=25)
    report["check_path"] = {
        "profiled_us_per_check": per_check,
        "note": "Proctor.check with a store that only keeps the events",
        "top": [s.to_dict() for s in spots],
    }
    report["components"] = component_costs(pool, events)
    spots, per_record = profile_calls(writer_record_work, events, repeat=2, top=15)
    report["audit_writer"] = {
        "profiled_us_per_record": per_record,
        "note": "chain_event + event_columns, as the writer thread runs them before its INSERTs",
        "top": [s.to_dict() for s in spots],
    }
    return report


# -- output --------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import regopy

        rego_cpp = str(regopy.__version__)
    except Exception:
        rego_cpp = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "libraries": {
            name: ver(name)
            for name in ("proctor", "cedarpy", "regopy", "pyyaml", "pydantic", "rich")
        },
        "rego_cpp": rego_cpp,
        "sqlite": sqlite3.sqlite_version,
    }


def _plain(value: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def _finite(value: Any) -> Any:
    """NaN and infinities become null, so the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _write(
    results: dict[str, Any], console: Any, began: float, out: Path, *, partial: bool = False
) -> None:
    results["seconds_total"] = time.perf_counter() - began
    results["partial"] = partial
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_end"] = list(os.getloadavg())
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(
        json.dumps(_finite(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if not partial:
        write_markdown(results, out / "latest.md")
    console.log(f"wrote {out / 'latest.json'}" + ("" if partial else " and latest.md"))


if __name__ == "__main__":
    sys.exit(main())
