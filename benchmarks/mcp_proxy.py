"""The MCP proxy's added latency per ``tools/call`` against a real stdio server.

    .venv/bin/python -m benchmarks.mcp_proxy            # 600 calls each way
    .venv/bin/python -m benchmarks.mcp_proxy --quick    # 200 calls each way

One client process holds two sessions to ``mcp-server-time``: one direct, one
through ``proctor mcp-proxy`` (a check, the call, the result's review and two
audit records per call, on a SQLite file). Calls alternate between the two,
so both see the same machine load; each proxied call is paired with the direct
call beside it, and the targets are read on those paired differences (their
median and 99th percentile), measured by the same client (the ``mcp`` SDK's
``ClientSession``). The differences of the two sides' own percentiles are kept
beside them: a difference of p99s is not the p99 of what the proxy adds.
``proxy_work_per_call`` is the proxy's own work (parse, check, relay, review,
encode) without the pipes and the process switches, which on a busy machine
dominate the end-to-end figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

TARGET_ADDED_P50_MS = 2.0
TARGET_ADDED_P99_MS = 5.0
WARMUP = 30
CONFIG = """\
policies: [policy.yaml]
roles: {assistant: {scopes: ["call:*"]}}
agents: [{id: bench-bot, role: assistant, tier: verified}]
storage: {audit: proctor.db}
"""
POLICY = """\
name: bench
rules:
  - {id: time, action: "call:time/get_current_time", effect: allow}
"""


@asynccontextmanager
async def _session(command: list[str], cwd: Path) -> AsyncIterator[Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=command[0], args=command[1:], cwd=str(cwd), env={"PROCTOR_AGENT": "bench-bot"}
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _summary(values_s: list[float]) -> dict[str, float]:
    ms = [value * 1000 for value in values_s]
    return {
        "p50_ms": round(_percentile(ms, 0.50), 3),
        "p99_ms": round(_percentile(ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


async def _measure(calls: int) -> dict[str, Any]:
    server = [str(Path(sys.executable).parent / "mcp-server-time")]
    with tempfile.TemporaryDirectory(prefix="proctor-mcp-bench-") as folder:
        work = Path(folder)
        (work / "proctor.yaml").write_text(CONFIG)
        (work / "policy.yaml").write_text(POLICY)
        proxy = [sys.executable, "-m", "proctor.cli", "mcp-proxy", "--config", "proctor.yaml"]
        proxy += ["--name", "time", "--", *server]
        async with _session(server, work) as direct, _session(proxy, work) as proxied:
            arguments = {"timezone": "UTC"}
            timings: dict[str, list[float]] = {"direct": [], "proxied": []}
            for index in range(WARMUP + calls):
                order = (("direct", direct), ("proxied", proxied))
                for name, session in order if index % 2 else reversed(order):
                    began = time.perf_counter()
                    result = await session.call_tool("get_current_time", arguments)
                    elapsed = time.perf_counter() - began
                    if result.isError if hasattr(result, "isError") else result.is_error:
                        raise RuntimeError(f"the {name} call failed: {result}")
                    if index >= WARMUP:
                        timings[name].append(elapsed)
    direct_s, proxied_s = _summary(timings["direct"]), _summary(timings["proxied"])
    added_p50 = round(proxied_s["p50_ms"] - direct_s["p50_ms"], 3)
    added_p99 = round(proxied_s["p99_ms"] - direct_s["p99_ms"], 3)
    paired = [p - d for p, d in zip(timings["proxied"], timings["direct"], strict=True)]
    paired_p50 = round(statistics.median(paired) * 1000, 3)
    paired_p99 = round(_percentile(paired, 0.99) * 1000, 3)
    return {
        "server": "mcp-server-time get_current_time (stdio)",
        "calls": calls,
        "direct": direct_s,
        "proxied": proxied_s,
        "added_p50_ms": added_p50,
        "added_p99_ms": added_p99,
        "paired_added_p50_ms": paired_p50,
        "paired_added_p99_ms": paired_p99,
        "proxy_work_per_call": await _proxy_work(calls),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "targets": [
            _target("MCP proxy added latency per tools/call, p50", paired_p50, TARGET_ADDED_P50_MS),
            _target("MCP proxy added latency per tools/call, p99", paired_p99, TARGET_ADDED_P99_MS),
        ],
    }


async def _proxy_work(calls: int) -> dict[str, float]:
    """The proxy's own work per call, without the pipes: parse, check, relay, review, encode."""
    import json

    from proctor.mcp.descriptions import TOOLS
    from proctor.mcp.gate import Caller
    from proctor.mcp.proxy import ProxyOptions, build_proxy
    from proctor.mcp.relay import Relay

    sent: list[bytes] = []
    forwarded: list[Any] = []  # the ids the proxy gave the calls it sent upstream

    class Loopback:
        async def send(self, message: dict[str, Any]) -> None:
            forwarded.append(message["id"])
            sent.append(json.dumps(message).encode())

        async def receive(self) -> None:
            return None

        async def close(self) -> None:
            return None

    async def down(message: dict[str, Any]) -> None:
        sent.append(json.dumps(message).encode())

    answer = {"timezone": "UTC", "datetime": "2026-11-24T10:00:00+00:00", "is_dst": False}
    with tempfile.TemporaryDirectory(prefix="proctor-mcp-bench-") as folder:
        work = Path(folder)
        (work / "proctor.yaml").write_text(CONFIG)
        (work / "policy.yaml").write_text(POLICY)
        proxy = build_proxy(
            ProxyOptions(
                config=str(work / "proctor.yaml"),
                name="time",
                command=("mcp-server-time",),
                environ={"PROCTOR_AGENT": "bench-bot"},
            )
        )
        relay = Relay(
            proxy.gate, Loopback(), down, server="time", caller=Caller(agent="bench-bot").in_run()
        )
        tool = {"name": "get_current_time", "annotations": {"readOnlyHint": True}}
        relay.listings.learn(relay.caller, TOOLS, [tool])  # as if the session had listed it
        timings: list[float] = []
        for index in range(WARMUP + calls):
            call = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": index,
                    "method": "tools/call",
                    "params": {"name": "get_current_time", "arguments": {"timezone": "UTC"}},
                }
            ).encode()
            result = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 0,  # the server answers the id the proxy gave the call
                    "result": {
                        "content": [{"type": "text", "text": json.dumps(answer)}],
                        "structuredContent": answer,
                        "isError": False,
                    },
                }
            ).encode()
            began = time.perf_counter()
            await relay.from_client(json.loads(call))
            reply = json.loads(result)
            reply["id"] = forwarded[-1]
            await relay.from_upstream(reply)
            elapsed = time.perf_counter() - began
            assert json.loads(sent[-1])["id"] == index  # reviewed and passed on, not dropped
            if index >= WARMUP:
                timings.append(elapsed)
        proxy.proctor.close()
    return _summary(timings)


def measure(*, quick: bool = False) -> dict[str, Any]:
    return asyncio.run(_measure(200 if quick else 600))


def _target(name: str, value: float, threshold: float) -> dict[str, Any]:
    return {
        "target": name,
        "value": value,
        "threshold": threshold,
        "unit": "ms",
        "comparison": "<=",
        "passed": value <= threshold,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args(argv)
    import json

    result = measure(quick=options.quick)
    print(json.dumps(result, indent=2))
    return 0 if all(t["passed"] for t in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
