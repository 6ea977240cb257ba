"""The official MCP conformance suite (npm ``@modelcontextprotocol/conformance`` 0.1.16) against
the conformance server (tests/mcp/conformance/server.py) directly, and through the proxy.

The suite tests a server over Streamable HTTP only, so the proxy is tested with its HTTP
front: in front of the server over HTTP (every scenario), and in front of it over stdio
(the scenarios of each kind of message: each session starts a server process, which is
the suite's cost). Through the proxy, with an allow-all policy, every scenario the server
passes directly must pass. Node 22 and the suite come from ``make test-deps``
(scripts/test-deps/mcp-conformance.sh).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.mcp.listening import conformance_over_http, listening, stop
from tests.mcp.wires import UPSTREAMS

SUITE = Path(__file__).parent / "conformance"
NODE = SUITE / "node_modules" / ".bin" / "node"
RUNNER = SUITE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SCENARIOS = 32  # `conformance list --server` at 0.1.16, the pending ones included
# Through the proxy over stdio: the scenarios of each kind of traffic the relay carries
# (a request and its answer, progress, requests from the server, notifications, resumption).
STDIO_SCENARIOS = (
    "tools-list",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "resources-subscribe",
    "prompts-get-with-args",
    "server-sse-polling",
)
_STAMP = re.compile(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$")

Results = dict[str, list[dict[str, object]]]


def run_suite(url: str, out: Path, *selection: str) -> Results:
    """Each scenario's checks (the suite's own exit status counts warnings too)."""
    subprocess.run(
        [str(NODE), str(RUNNER), "server", "--url", url, "-o", str(out), *selection],
        capture_output=True,
        timeout=600,
        check=False,
    )
    results: Results = {}
    for checks in out.glob("*/checks.json"):
        name = _STAMP.sub("", checks.parent.name).removeprefix("server-")
        results[name] = json.loads(checks.read_text())
    return results


def passed(results: Results) -> set[str]:
    return {
        name
        for name, checks in results.items()
        if not any(check["status"] == "FAILURE" for check in checks)
    }


def failures(results: Results) -> dict[str, list[object]]:
    return {
        name: [
            c.get("errorMessage") or c["description"] for c in checks if c["status"] == "FAILURE"
        ]
        for name, checks in results.items()
        if name not in passed(results)
    }


@pytest.fixture(scope="module")
def suite_installed() -> None:
    if not RUNNER.exists() or not NODE.exists():
        pytest.fail("the MCP conformance suite is missing: run `make test-deps`")


@pytest.fixture(scope="module")
def server(suite_installed: None) -> Iterator[str]:
    with conformance_over_http() as url:
        yield url


@pytest.fixture(scope="module")
def direct(server: str, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return run_suite(server, tmp_path_factory.mktemp("direct"), "--suite", "all")


def test_the_server_passes_every_scenario_directly(direct: Results) -> None:
    assert len(direct) == SCENARIOS
    assert failures(direct) == {}


def test_the_proxy_over_http_in_front_of_http_passes_what_the_server_passes(
    direct: Results, server: str, workdir: Path
) -> None:
    process, url = listening(workdir, [], "--upstream", server, name="conformance")
    try:
        proxied = run_suite(url, workdir / "results", "--suite", "all")
    finally:
        stop(process)
    assert failures(proxied) == {}
    assert passed(proxied) >= passed(direct)


def test_the_proxy_over_http_in_front_of_stdio_passes_what_the_server_passes(
    direct: Results, workdir: Path
) -> None:
    process, url = listening(workdir, UPSTREAMS["conformance"], name="conformance")
    try:
        with ThreadPoolExecutor(4) as pool:  # a scenario waits on a process start mostly
            runs = pool.map(
                lambda scenario: run_suite(url, workdir / scenario, "--scenario", scenario),
                STDIO_SCENARIOS,
            )
            proxied = {name: checks for run in runs for name, checks in run.items()}
    finally:
        stop(process)
    assert sorted(proxied) == sorted(STDIO_SCENARIOS)
    assert failures(proxied) == {}
    assert passed(proxied) >= passed(direct) & set(STDIO_SCENARIOS)
