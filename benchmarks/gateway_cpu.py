"""The gateway's CPU time per check, in process, beside the bare Starlette app.

    .venv/bin/python -m benchmarks.gateway_cpu                       # this tree
    .venv/bin/python -m benchmarks.gateway_cpu --baseline-src ../main/src

Each measurement is its own process: the ASGI app (``proctor serve``'s, over
the bench's SQLite config with durability ``batched``, or ``gateway_bare``'s)
driven directly by 32 concurrent tasks sending ``POST /v1/check``, with no
HTTP server or socket; uvicorn's share is the same for both apps and is left
out. It reports CPU time per check: the event loop's thread (``loop_us``) and
the whole process, the audit writer included (``process_us``). CPU time,
unlike decisions/s, does not depend on the share of the cores a busy shared
machine gives the process, so an A/B of two trees (``--baseline-src``, taken
in turns, order reversed each round) reads on a loaded machine too; the
median over rounds is reported. Bounded: ``--checks`` per measurement.
The bare app's check goes through Starlette's routing and middleware;
proctor's ``POST /v1/check`` does not (``proctor/server/plain_check.py``), so
the bare figure is the framework's cost, not a floor under proctor's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32
WARMUP = 200


async def _drive(app: Any, checks: int) -> dict[str, float]:
    from benchmarks.gateway import BODY, KEY

    body = BODY.encode()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {KEY}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/check",
        "raw_path": b"/v1/check",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8700),
    }

    async def one() -> None:
        sent = False
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect while answering
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(dict(scope), receive, send)
        if statuses != [200]:
            raise RuntimeError(f"the check was answered {statuses}")

    lifespan: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await lifespan.put({"type": "lifespan.startup"})
    running = asyncio.ensure_future(
        app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, lifespan.get, replies.put
        )
    )
    await replies.get()
    for _ in range(WARMUP):
        await one()
    left = checks

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    wall, process, loop = time.perf_counter(), time.process_time(), time.thread_time()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    wall, process, loop = (
        time.perf_counter() - wall,
        time.process_time() - process,
        time.thread_time() - loop,
    )
    await lifespan.put({"type": "lifespan.shutdown"})
    await replies.get()
    await running
    return {
        "loop_us": round(loop / checks * 1e6, 1),
        "process_us": round(process / checks * 1e6, 1),
        "wall_us": round(wall / checks * 1e6, 1),
    }


def _measure_here(kind: str, checks: int) -> dict[str, float]:
    """In this process: one measurement of ``kind`` (``bare`` or ``sqlite``)."""
    if kind == "bare":
        from benchmarks.gateway_bare import create_app

        app: Any = create_app()
    else:
        from benchmarks.gateway import write_config
        from proctor.server.gateway import build_gateway

        directory = Path(tempfile.mkdtemp(prefix="proctor-cpu-"))
        config = write_config(directory, kind == "sqlite-approval")
        os.chdir(directory)
        app = build_gateway(str(config), None)
    try:
        import uvloop

        return uvloop.run(_drive(app, checks))
    except ImportError:
        return asyncio.run(_drive(app, checks))


def measure(kind: str, source: Path, checks: int) -> dict[str, float]:
    """One measurement in a fresh process running proctor from ``source``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(ROOT)])}
    command = [sys.executable, "-m", "benchmarks.gateway_cpu", "--one", kind]
    command += ["--checks", str(checks)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True, timeout=600)
    result: dict[str, float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway_cpu", description=__doc__)
    parser.add_argument("--checks", type=int, default=5000, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to A/B")
    parser.add_argument(
        "--kinds", nargs="+", default=["bare", "sqlite", "sqlite-approval"],
        choices=["bare", "sqlite", "sqlite-approval"],
    )  # fmt: skip
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a measurement's own process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_measure_here(args.one, args.checks)))
        return 0
    trees = [("this tree", ROOT / "src")]
    if args.baseline_src is not None:
        trees.append(("baseline", args.baseline_src.resolve()))
    runs = [(kind, name, src) for kind in args.kinds for name, src in trees]
    if args.kinds == ["bare"]:
        runs = runs[:1]
    found: dict[tuple[str, str], list[dict[str, float]]] = {}
    for number in range(args.rounds):
        for kind, name, src in runs if number % 2 == 0 else list(reversed(runs)):
            if kind == "bare" and name != "this tree":
                continue
            result = measure(kind, src, args.checks)
            found.setdefault((kind, name), []).append(result)
            print(f"round {number + 1} {kind} ({name}): {result}", flush=True)
    print("\n| app | code | loop µs/check | process µs/check |\n| --- | --- | --- | --- |")
    for (kind, name), results in found.items():
        loop = median(r["loop_us"] for r in results)
        process = median(r["process_us"] for r in results)
        print(f"| {kind} | {name} | {loop:.1f} | {process:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
