"""The proxy's HTTP front as a process, for tests that speak HTTP to it directly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.mcp.conftest import PROXY, SOURCES
from tests.server.gateway import free_port

HELLO = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "limits", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}
CONFORMANCE_SERVER = Path(__file__).parent / "conformance" / "server.py"
OPEN_POLICY = 'name: open\nrules: [{id: any, action: "*", effect: allow}]\n'


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process exited"
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)  # polling a process start-up, not waiting for time to pass
    raise AssertionError(f"{url} did not answer")


def listening(
    workdir: Path,
    upstream: list[str],
    *options: str,
    env: dict[str, str] | None = None,
    name: str = "raw",
    address: str = "127.0.0.1",
) -> tuple[subprocess.Popen[bytes], str]:
    """The proxy on a free loopback port in front of ``upstream``, with an allow-all policy."""
    (workdir / "policy.yaml").write_text(OPEN_POLICY)
    port = free_port()
    proxy = [*PROXY, "--config", str(workdir / "proctor.yaml"), "--name", name]
    process = subprocess.Popen(
        [*proxy, "--listen", f"{address}:{port}", *options, "--", *upstream],
        cwd=workdir,
        env={**os.environ, **SOURCES, "PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice"}
        | (env or {}),
        stderr=subprocess.PIPE,
    )
    wait_for(f"http://{address}:{port}/.well-known/oauth-protected-resource", process)
    return process, f"http://{address}:{port}/mcp"


def stop(process: subprocess.Popen[bytes]) -> bytes:
    """Kill the process; what it wrote to stderr."""
    if process.poll() is None:
        process.kill()
    return process.communicate()[1] or b""


def child_pids(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (from /proc/*/stat: kernels without
    /proc/PID/task/TID/children have it too)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(entry.name))
    return found


@contextmanager
def conformance_over_http() -> Iterator[str]:
    """The conformance server over Streamable HTTP (it accepts its own `Host` only); its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(CONFORMANCE_SERVER), "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/mcp", process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)
