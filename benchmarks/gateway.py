"""The gateway side by side with a bare Starlette app: ``POST /v1/check`` at concurrency 32.

    .venv/bin/python -m benchmarks.gateway                # what `make bench` runs
    .venv/bin/python -m benchmarks.gateway --quick        # one short round
    .venv/bin/python -m benchmarks.gateway --no-postgres

Every server of the table runs at once on loopback, each a real process
(``proctor serve``, or ``benchmarks.gateway_bare`` on the same uvicorn
settings), with 1 worker and with N (the cores). Each round loads them one
after the other, in turn, from a load generator in its own process
(``benchmarks.gateway_load``, bounded in time and count); the order is
reversed every other round, so a machine that slows down during the run
weighs on every server alike. A figure is the median over rounds; a ratio is
taken within a round (this server ÷ the bare app with 1 worker in that same
round), then its median. Every proctor answer is a committed audit record, and
each proctor server's chain is verified after its load.

The results go to ``benchmarks/results/gateway.json`` (and ``gateway.md``,
the table the README quotes); before they are written, the previous file is
compared and every figure that moved more than 10 % is named.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from benchmarks.regression import moved

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
KEY = "pa_bench-key-0123456789abcdef"
POLICY = """\
name: bench
rules:
  - {id: read-all, action: "read:*", effect: allow}
  - {id: small-refunds, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: no-delete, action: "delete:*", effect: deny}
"""
# One rule anywhere that holds calls for approval (the bench's call never meets it).
APPROVAL_RULE = (
    '  - {id: big-refunds, action: "write:refund", effect: require_approval, '
    'when: "args.amount > 100"}\n'
)
BODY = json.dumps(
    {"action": "write:refund", "agent": "bench-bot", "user": "alice", "args": {"amount": 40}}
)
TARGETS = {"sqlite": 0.6, "sqlite-approval": 0.6, "postgres": 0.4}  # ÷ bare, 1 worker
TARGET_P99_MS = 5.0
STARTUP_SECONDS = 90.0


@dataclass(frozen=True, slots=True)
class Scenario:
    kind: str  # bare, sqlite, sqlite-approval, postgres
    workers: int
    baseline: bool = False  # proctor from the `--baseline-src` sources (an A/B in one run)

    @property
    def key(self) -> str:
        return f"{self.kind}-w{self.workers}" + ("-baseline" if self.baseline else "")

    @property
    def label(self) -> str:
        label = {
            "bare": "bare Starlette, same uvicorn settings, same JSON parsed",
            "sqlite": "proctor serve, SQLite, no approval rule",
            "sqlite-approval": "proctor serve, SQLite, one require_approval rule",
            "postgres": "proctor serve, PostgreSQL",
        }[self.kind]
        return f"{label} (baseline code)" if self.baseline else label


@dataclass(slots=True)
class Server:
    scenario: Scenario
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def scenarios(
    workers: int, postgres: bool, baseline: bool = False, kinds: Sequence[str] | None = None
) -> list[Scenario]:
    """Every kind with 1 worker and with ``workers``; with ``baseline``, proctor's twice."""
    wanted = kinds or ["bare", "sqlite", "sqlite-approval"] + (["postgres"] if postgres else [])
    counts = [1, workers] if workers > 1 else [1]
    found = []
    for count in counts:
        for kind in wanted:
            found.append(Scenario(kind, count))
            if baseline and kind != "bare":
                found.append(Scenario(kind, count, baseline=True))
    return found


def write_config(directory: Path, approval: bool) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "policy.yaml").write_text(POLICY + (APPROVAL_RULE if approval else ""))
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    config = directory / "proctor.yaml"
    config.write_text(
        "policies: [policy.yaml]\n"
        "roles: {support: {scopes: ['*']}}\n"
        "agents: [{id: bench-bot, role: support, tier: verified}]\n"
        "users: {alice: {scopes: ['*']}}\n"
        "storage: {audit: proctor.db, durability: batched}\n"
        f"server: {{admin_keys: [{{id: bench, sha256: {digest}, scopes: [admin]}}]}}\n"
    )
    return config


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    scenario: Scenario, directory: Path, postgres_url: str | None, baseline_src: Path | None = None
) -> Server:
    """The scenario's server, once every one of its workers has started."""
    port = free_port()
    log = directory / f"{scenario.key}.log"
    if scenario.kind == "bare":
        command = ["-m", "benchmarks.gateway_bare", "--port", str(port)]
        cwd = ROOT
    else:
        config = write_config(directory / scenario.key, scenario.kind == "sqlite-approval")
        command = ["-m", "proctor.cli", "serve", "--config", str(config), "--port", str(port)]
        if scenario.kind == "postgres":
            assert postgres_url is not None
            command += ["--db", postgres_url]
        cwd = config.parent
    command += ["--workers", str(scenario.workers)]
    env = dict(os.environ)
    if scenario.kind != "bare":  # whose proctor: these sources, or the baseline's
        source = baseline_src if scenario.baseline else ROOT / "src"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), str(ROOT)]))
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, *command], cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, env=env
        )
    server = Server(scenario, port, process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while log.read_text().count("Application startup complete") < scenario.workers:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{scenario.key} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return server


@contextmanager
def running(
    all_scenarios: Sequence[Scenario],
    directory: Path,
    postgres_url: str | None,
    baseline_src: Path | None = None,
) -> Iterator[list[Server]]:
    servers: list[Server] = []
    try:
        for scenario in all_scenarios:
            servers.append(start(scenario, directory, postgres_url, baseline_src))
        yield servers
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(60)
            except subprocess.TimeoutExpired:
                server.process.kill()


def load(server: Server, options: argparse.Namespace) -> dict[str, Any]:
    """One load from the generator's own process."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.gateway_load",
        "--port",
        str(server.port),
        "--key",
        KEY,
        "--body",
        BODY,
        "--concurrency",
        str(options.concurrency),
        "--seconds",
        str(options.seconds),
        "--warmup",
        str(options.warmup),
        "--max-requests",
        str(options.max_requests),
    ]
    timeout = options.warmup + options.seconds + 120
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=True, timeout=timeout)
    result: dict[str, Any] = json.loads(done.stdout)
    if server.scenario.kind != "bare":
        verify = httpx.get(
            f"http://127.0.0.1:{server.port}/v1/audit/verify",
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=300,
        ).json()
        result["chain_ok"] = verify["ok"]
        result["records"] = verify["checked"]
    return result


def run_rounds(servers: list[Server], options: argparse.Namespace) -> list[dict[str, Any]]:
    """Every server loaded once per round, in turn; ratios taken within the round."""
    rounds: list[dict[str, Any]] = []
    began = time.monotonic()
    per_round = len(servers) * (options.seconds + options.warmup + 5)
    for number in range(options.rounds):
        if rounds and time.monotonic() - began + per_round > options.max_minutes * 60:
            print(f"stopping after {len(rounds)} rounds: the time budget is spent", flush=True)
            break
        order = servers if number % 2 == 0 else list(reversed(servers))
        results: dict[str, dict[str, Any]] = {}
        for server in order:
            results[server.scenario.key] = load(server, options)
            print(f"round {number + 1} {server.scenario.key}: {results[server.scenario.key]}")
        for server in servers:
            result = results[server.scenario.key]
            result["ratio_bare_w1"] = _ratio(result, results.get("bare-w1"))
            same = results.get(Scenario("bare", server.scenario.workers).key)
            result["ratio_bare_same"] = _ratio(result, same)
        rounds.append(results)
    return rounds


def _ratio(result: dict[str, Any], bare: dict[str, Any] | None) -> float | None:
    if bare is None or not bare["decisions_per_s"]:
        return None
    return round(result["decisions_per_s"] / bare["decisions_per_s"], 3)


def summarize(
    all_scenarios: Sequence[Scenario], rounds: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for scenario in all_scenarios:
        runs = [r[scenario.key] for r in rounds if scenario.key in r]
        if not runs:
            continue
        entry: dict[str, Any] = {"label": scenario.label, "workers": scenario.workers}
        for figure in ("decisions_per_s", "p50_ms", "p99_ms", "ratio_bare_w1", "ratio_bare_same"):
            values = [run[figure] for run in runs if run.get(figure) is not None]
            entry[figure] = round(median(values), 3) if values else None
        entry["errors"] = sum(run["errors"] for run in runs)
        if scenario.kind != "bare":
            entry["chain_ok"] = all(run["chain_ok"] for run in runs)
        summary[scenario.key] = entry
    return summary


def table(results: dict[str, Any]) -> str:
    """The ratio table, in Markdown (the terminal shows the same text)."""
    lines = [
        f"`make bench`, {results['date']}, {results['machine']['cpus']} cores, load average "
        f"{results['machine']['load_before']} at the start; {results['settings']['rounds_run']} "
        f"interleaved rounds of {results['settings']['seconds']:g} s per server, "
        f"{results['settings']['concurrency']} keep-alive connections from a separate process:",
        "",
        "| server | workers | decisions/s | p50 ms | p99 ms | ÷ bare, 1 worker "
        "| ÷ bare, same workers |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in results["scenarios"].values():
        lines.append(
            f"| {entry['label']} | {entry['workers']} | {_n(entry['decisions_per_s'], 0)} "
            f"| {_n(entry['p50_ms'], 2)} | {_n(entry['p99_ms'], 2)} "
            f"| {_n(entry['ratio_bare_w1'], 2)} | {_n(entry['ratio_bare_same'], 2)} |"
        )
    return "\n".join(lines) + "\n"


def targets(summary: dict[str, dict[str, Any]]) -> list[str]:
    """The issue's targets against this run (the ratio to bare Starlette with 1 worker)."""
    lines = []
    for key, entry in summary.items():
        kind = key.rsplit("-w", 1)[0]
        if kind not in TARGETS or entry["ratio_bare_w1"] is None:
            continue
        wanted = TARGETS[kind]
        ratio_ok = entry["ratio_bare_w1"] >= wanted
        p99_ok = kind == "postgres" or (entry["p99_ms"] or 1e9) <= TARGET_P99_MS
        verdict = "pass" if ratio_ok and p99_ok else "miss"
        p99 = "" if kind == "postgres" else f", p99 {_n(entry['p99_ms'], 2)} ≤ {TARGET_P99_MS:g}"
        lines.append(f"{verdict}: {key} ÷ bare (1 worker) {entry['ratio_bare_w1']} ≥ {wanted}{p99}")
    return lines


def _n(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def measure(
    *,
    quick: bool = False,
    concurrency: int = 32,
    seconds: float = 8.0,
    warmup: float = 2.0,
    rounds: int = 2,
    workers: int | None = None,
    postgres: bool = True,
    max_requests: int = 1_000_000,
    max_minutes: float = 15.0,
    previous: dict[str, Any] | None = None,
    baseline_src: Path | None = None,
    kinds: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Every server, in interleaved rounds; the figures, the table and what moved."""
    from proctor.server.workers import default_workers

    options = argparse.Namespace(
        concurrency=concurrency,
        seconds=3.0 if quick else seconds,
        warmup=1.0 if quick else warmup,
        rounds=1 if quick else rounds,
        max_requests=max_requests,
        max_minutes=max_minutes,
    )
    count = workers or default_workers()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="proctor-bench-")))
        url = None
        if postgres:
            sys.path.insert(0, str(ROOT))
            from tests.postgres_cluster import start_cluster

            cluster = start_cluster(fast=False)  # fsync on: durable commits
            stack.callback(cluster.stop)
            url = cluster.database("bench")
        all_scenarios = scenarios(count, postgres, baseline_src is not None, kinds)
        load_before = round(os.getloadavg()[0], 2)
        with running(all_scenarios, tmp, url, baseline_src) as servers:
            measured = run_rounds(servers, options)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "load_before": load_before},
        "settings": {
            **vars(options),
            "workers": count,
            "rounds_run": len(measured),
            "baseline_src": str(baseline_src) if baseline_src is not None else None,
        },
        "scenarios": summarize(all_scenarios, measured),
        "rounds": measured,
    }
    results["targets"] = targets(results["scenarios"])
    results["moved"] = moved(
        (previous or {}).get("scenarios"),
        results["scenarios"],
        ("decisions_per_s", "p99_ms", "ratio_bare_w1", "ratio_bare_same"),
    )
    return results


def report(results: dict[str, Any]) -> str:
    lines = [table(results), *results["targets"], ""]
    if results["moved"] is None:
        lines.append("no previous results with these figures to compare")
    elif results["moved"]:
        lines.append("moved more than 10 % since the previous results:")
        lines += [f"  {line}" for line in results["moved"]]
    else:
        lines.append("nothing moved more than 10 % since the previous results")
    return "\n".join(lines) + "\n"


def save(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "gateway.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "gateway.md").write_text(report(results))


def previous_results(out: Path) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = json.loads((out / "gateway.json").read_text())
    except (OSError, ValueError):
        return None
    return found


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.decode().strip() or None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round of 3 s per server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per load")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, help="N (default: the number of cores)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="per load")
    parser.add_argument("--max-minutes", type=float, default=15.0, help="for every round")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another checkout's src/ (e.g. main's): each proctor server runs with it too",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=["bare", "sqlite", "sqlite-approval", "postgres"],
        help="only these servers (default: all; bare is the ratios' baseline)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = measure(
        quick=args.quick,
        concurrency=args.concurrency,
        seconds=args.seconds,
        warmup=args.warmup,
        rounds=args.rounds,
        workers=args.workers,
        postgres=not args.no_postgres and (args.kinds is None or "postgres" in args.kinds),
        max_requests=args.max_requests,
        max_minutes=args.max_minutes,
        previous=previous_results(args.out),
        baseline_src=args.baseline_src.resolve() if args.baseline_src else None,
        kinds=args.kinds,
    )
    save(results, args.out)
    print(report(results))
    failed = any(entry.get("chain_ok") is False for entry in results["scenarios"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
