"""The load generator of the gateway bench, run as its own process.

    python -m benchmarks.gateway_load --port 8700 --key KEY --body '{...}' --seconds 8

``--concurrency`` keep-alive connections on asyncio streams (uvloop when
installed), each sending one ``POST /v1/check`` after the other; latencies
after ``--warmup`` seconds are kept. Bounded in time (``--warmup`` +
``--seconds``) and in count (``--max-requests``, all connections together).
Loopback only. Prints one JSON line: decisions/s, p50, p99, max, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

LOOPBACK = "127.0.0.1"


class Budget:
    """Requests left to send, shared by every connection (the bound in count)."""

    def __init__(self, requests: int) -> None:
        self.left = requests

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


async def _connection(
    port: int,
    request: bytes,
    until: float,
    warm_until: float,
    budget: Budget,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        while budget.take():
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


async def _load(options: argparse.Namespace) -> dict[str, Any]:
    body = options.body.encode()
    request = (
        b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {options.key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    latencies: list[float] = []
    errors: list[int] = []
    budget = Budget(options.max_requests)
    began = time.perf_counter()
    warm_until = began + options.warmup
    until = warm_until + options.seconds
    await asyncio.gather(
        *(
            _connection(options.port, request, until, warm_until, budget, latencies, errors)
            for _ in range(options.concurrency)
        )
    )
    measured = max(time.perf_counter() - warm_until, 1e-9)
    latencies.sort()
    count = len(latencies)

    def percentile(p: float) -> float | None:
        return round(latencies[min(count - 1, int(p * count))] * 1000, 3) if count else None

    return {
        "concurrency": options.concurrency,
        "seconds": round(measured, 3),
        "decisions": count,
        "decisions_per_s": round(count / measured, 1),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "max_ms": round(latencies[-1] * 1000, 3) if count else None,
        "errors": len(errors),
        "stopped_by_count": budget.left < 0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway_load", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--body", required=True, help="the JSON body of every request")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    options = parser.parse_args(argv)
    try:
        import uvloop

        result = uvloop.run(_load(options))
    except ImportError:
        result = asyncio.run(_load(options))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
