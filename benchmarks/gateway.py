"""The gateway under load: ``POST /v1/check`` decisions/s and latency at a fixed concurrency.

    .venv/bin/python -m benchmarks.gateway                # SQLite, PostgreSQL, client overhead
    .venv/bin/python -m benchmarks.gateway --quick        # shorter runs

The server is a real ``proctor serve`` subprocess on loopback; the load comes
from this (separate) process over ``--concurrency`` keep-alive connections,
written on asyncio streams so the generator costs little next to the server.
Every answer is a committed audit record (the gateway waits for the commit).
Figures: decisions/s, p50/p99/max latency as the client sees it; then the
overhead of ``ProctorClient.check`` over an in-process ``Proctor.check``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

KEY = "pa_bench-key-0123456789abcdef"
POLICY = """\
name: bench
rules:
  - {id: read-all, action: "read:*", effect: allow}
  - {id: small-refunds, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: no-delete, action: "delete:*", effect: deny}
"""
BODY = json.dumps(
    {"action": "write:refund", "agent": "bench-bot", "user": "alice", "args": {"amount": 40}}
).encode()
RESULTS = Path(__file__).resolve().parent / "results"


def write_config(directory: Path, durability: str) -> Path:
    (directory / "policy.yaml").write_text(POLICY)
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    config = directory / "proctor.yaml"
    config.write_text(
        "policies: [policy.yaml]\n"
        "roles: {support: {scopes: ['*']}}\n"
        "agents: [{id: bench-bot, role: support, tier: verified}]\n"
        "users: {alice: {scopes: ['*']}}\n"
        f"storage: {{audit: proctor.db, durability: {durability}}}\n"
        f"server: {{admin_keys: [{{id: bench, sha256: {digest}, scopes: [admin]}}]}}\n"
    )
    return config


def start_server(config: Path, port: int, db: str | None = None) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "proctor.cli",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
    ]
    if db:
        command += ["--db", db]
    process = subprocess.Popen(
        command, cwd=config.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _worker(
    port: int, until: float, warm_until: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        + BODY
    )
    try:
        while True:
            started = time.perf_counter()
            if started >= until:
                return
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            done = time.perf_counter()
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(1)
            elif started >= warm_until:
                latencies.append(done - started)
    finally:
        writer.close()


async def _load(port: int, concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    now = time.perf_counter()
    warm_until = now + warmup
    until = warm_until + seconds
    await asyncio.gather(
        *(_worker(port, until, warm_until, latencies, errors) for _ in range(concurrency))
    )
    latencies.sort()
    count = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000 if count else float("nan")

    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "decisions": count,
        "decisions_per_s": round(count / seconds, 1),
        "p50_ms": round(pct(0.50), 3),
        "p99_ms": round(pct(0.99), 3),
        "max_ms": round(latencies[-1] * 1000, 3) if count else None,
        "errors": len(errors),
    }


def load(port: int, concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    try:
        import uvloop

        return uvloop.run(_load(port, concurrency, seconds, warmup))
    except ImportError:
        return asyncio.run(_load(port, concurrency, seconds, warmup))


def scenario(
    name: str, config: Path, args: argparse.Namespace, db: str | None = None
) -> dict[str, Any]:
    port = free_port()
    server = start_server(config, port, db)
    try:
        result = load(port, args.concurrency, args.seconds, args.warmup)
        verify = httpx.get(
            f"http://127.0.0.1:{port}/v1/audit/verify",
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=120,
        ).json()
        result["chain_ok"] = verify["ok"]
        result["records"] = verify["checked"]
    finally:
        server.terminate()
        server.wait(30)
    result["scenario"] = name
    return result


def client_overhead(config: Path, calls: int) -> dict[str, Any]:
    from proctor.sdk import Proctor
    from proctor.sdk.remote import ProctorClient

    port = free_port()
    server = start_server(config, port)
    local = Proctor.from_config(config, audit=str(config.parent / "local.db"))
    try:
        remote = ProctorClient(f"http://127.0.0.1:{port}", token=KEY)

        def timed(check: Any) -> list[float]:
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                decision = check(
                    "write:refund", agent="bench-bot", user="alice", args={"amount": 40}
                )
                samples.append(time.perf_counter() - started)
                assert decision.allowed, decision.reason
            return samples

        timed(local.check)
        timed(remote.check)
        in_process = timed(local.check)
        over_http = timed(remote.check)
        remote.close()
    finally:
        local.close()
        server.terminate()
        server.wait(30)
    in_us = statistics.median(in_process) * 1e6
    http_us = statistics.median(over_http) * 1e6
    return {
        "calls": calls,
        "in_process_median_us": round(in_us, 1),
        "client_median_us": round(http_us, 1),
        "overhead_median_us": round(http_us - in_us, 1),
        "client_p99_us": round(sorted(over_http)[int(0.99 * calls)] * 1e6, 1),
    }


def measure(
    *,
    quick: bool = False,
    concurrency: int = 32,
    seconds: float = 10.0,
    warmup: float = 2.0,
    postgres: bool = True,
) -> dict[str, Any]:
    """Every scenario; the figures as a dict (``benchmarks.run`` keeps them under ``gateway``)."""
    args = argparse.Namespace(
        concurrency=concurrency,
        seconds=4.0 if quick else seconds,
        warmup=1.0 if quick else warmup,
    )
    results: dict[str, Any] = {"cpus": os.cpu_count(), "scenarios": []}
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        root = Path(tmp)
        for durability in ("batched", "sync"):
            directory = root / durability
            directory.mkdir()
            config = write_config(directory, durability)
            results["scenarios"].append(scenario(f"sqlite, durability {durability}", config, args))
            print(json.dumps(results["scenarios"][-1]))
        if postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.postgres_cluster import start_cluster

            cluster = start_cluster(fast=False)  # fsync on: durable commits
            try:
                url = cluster.database("bench")
                directory = root / "pg"
                directory.mkdir()
                config = write_config(directory, "batched")
                results["scenarios"].append(scenario("postgresql", config, args, db=url))
                print(json.dumps(results["scenarios"][-1]))
            finally:
                cluster.stop()
        overhead_dir = root / "overhead"
        overhead_dir.mkdir()
        results["client_overhead"] = client_overhead(
            write_config(overhead_dir, "batched"), 500 if quick else 2000
        )
        print(json.dumps(results["client_overhead"]))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = measure(
        quick=args.quick,
        concurrency=args.concurrency,
        seconds=args.seconds,
        warmup=args.warmup,
        postgres=not args.no_postgres,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gateway.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
