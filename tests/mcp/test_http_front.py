"""The proxy as a Streamable HTTP server, in front of a Streamable HTTP upstream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import TextContent

from proctor import Proctor
from tests.mcp.conftest import EVERYTHING, SOURCES, audit_records
from tests.mcp.listening import ACCEPT, HELLO, child_pids, listening, stop, wait_for
from tests.mcp.wires import UPSTREAMS
from tests.server.gateway import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def http_proxy(workdir: Path, node_servers: None) -> Iterator[tuple[str, str]]:
    """server-everything over HTTP, the proxy over HTTP in front of it; yields (url, token)."""
    config = workdir / "proctor.yaml"
    config.write_text(config.read_text() + "identity: {allow_dev_tokens: true}\n")
    with Proctor.from_config(config) as guard:
        identity = guard.runtime.identity
        assert identity is not None
        user_token = identity.mint_dev_user_token("alice", ("call:*",), ttl=600)
        token = guard.exchange(subject_token=user_token, actor="desk-bot").access_token
    upstream_port, proxy_port = free_port(), free_port()
    upstream = subprocess.Popen(
        [EVERYTHING[0], "streamableHttp"],
        env={**os.environ, "PORT": str(upstream_port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = subprocess.Popen(
        [
            *[sys.executable, "-m", "proctor.cli", "mcp-proxy"],
            *["--config", str(config), "--name", "everything"],
            *["--listen", f"127.0.0.1:{proxy_port}"],
            *["--upstream", f"http://127.0.0.1:{upstream_port}/mcp"],
        ],
        cwd=workdir,
    )
    try:
        wait_for(f"http://127.0.0.1:{upstream_port}/mcp", upstream)
        wait_for(f"http://127.0.0.1:{proxy_port}/.well-known/oauth-protected-resource", proxy)
        yield f"http://127.0.0.1:{proxy_port}/mcp", token
    finally:
        for process in (proxy, upstream):
            process.terminate()
            process.wait(10)


async def test_bearer_token_per_request(http_proxy: tuple[str, str], workdir: Path) -> None:
    url, token = http_proxy
    base = url.removesuffix("/mcp")
    metadata = httpx.get(f"{base}/.well-known/oauth-protected-resource").json()
    assert metadata["resource"] == url
    assert "authorization_servers" not in metadata  # `urn:proctor` is nothing to fetch

    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    anonymous = httpx.post(url, json=hello)
    assert anonymous.status_code == 401
    assert "resource_metadata=" in anonymous.headers["www-authenticate"]
    assert "bearer token is required" in anonymous.json()["message"]
    forged = httpx.post(url, json=hello, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]

    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        listed = {tool.name for tool in (await session.list_tools()).tools}
        assert "echo" in listed
        assert "get-env" not in listed
        structured = await session.call_tool("get-structured-content", {"location": "New York"})
        assert structured.structured_content is not None
        slow = await session.call_tool(
            "trigger-long-running-operation",
            {"duration": 0.3, "steps": 3},
            progress_callback=on_progress,
        )
        assert not slow.is_error
        assert progress == [1, 2, 3]
        env = await session.call_tool("get-env", {})
        assert env.is_error
        assert any("denied" in c.text for c in env.content if isinstance(c, TextContent))

    # a newer-era client falls back to a session with `initialize`
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with client, Client(streamable_http_client(url, http_client=client)) as newer:
        echoed = await newer.call_tool("echo", {"message": "hi"})
        assert not echoed.is_error

    decisions = [r for r in audit_records(workdir) if r["kind"] == "decision"]
    assert {r["effect"] for r in decisions} == {"allow", "deny"}
    assert all(r["user"]["sub"] == "alice" for r in decisions)  # type: ignore[index]
    assert all(r["delegation"] for r in decisions)  # the token's chain is recorded


@pytest.mark.parametrize(
    ("issuer", "listed"),
    [("https://gateway.example", ["https://gateway.example"]), ("urn:proctor", None)],
)
def test_the_metadata_names_an_issuer_a_client_can_resolve(
    workdir: Path, issuer: str, listed: list[str] | None
) -> None:
    """No token: a 401 whose message says what to send; the metadata points at a URL or at
    nothing, never at a URN."""
    config = workdir / "proctor.yaml"
    config.write_text(config.read_text() + f"identity: {{issuer: '{issuer}'}}\n")
    port = free_port()
    listen = ["--name", "raw", "--listen", f"127.0.0.1:{port}", "--", *UPSTREAMS["raw"]]
    proxy = subprocess.Popen(
        [sys.executable, "-m", "proctor.cli", "mcp-proxy", "--config", str(config), *listen],
        cwd=workdir,
        env={**os.environ, **SOURCES},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/.well-known/oauth-protected-resource", proxy)
        metadata = httpx.get(f"{base}/.well-known/oauth-protected-resource").json()
        anonymous = httpx.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    finally:
        proxy.terminate()
        proxy.wait(10)
    assert metadata.get("authorization_servers") == listed
    assert anonymous.status_code == 401
    body = anonymous.json()
    assert body["error"] == "unauthorized"
    assert isinstance(body["message"], str)
    assert "Authorization: Bearer" in body["message"]


# -- bounded waits: --call-timeout, --idle-timeout, --shutdown-grace ---------------------------

SILENT = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # reads, never answers


def test_an_upstream_that_never_answers_initialize_gets_a_timeout_answer(workdir: Path) -> None:
    process, url = listening(workdir, SILENT, "--call-timeout", "0.5")
    try:
        answer = httpx.post(url, json=HELLO, headers=ACCEPT, timeout=30).text
    finally:
        stop(process)
    assert '"code": -32001' in answer
    assert "within 0.5 s" in answer


def test_a_call_past_its_timeout_is_answered_and_cancelled_upstream(workdir: Path) -> None:
    log = workdir / "raw.jsonl"
    env = {"RAW_SERVER_LOG": str(log)}
    process, url = listening(workdir, UPSTREAMS["raw"], "--call-timeout", "0.5", env=env)
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            opened = client.post(url, json=HELLO)
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call"}
            call["params"] = {"name": "slow_secret", "arguments": {}}
            answer = client.post(url, json=call, headers=session).text
            after = client.post(url, json={**call, "id": 3}, headers=session).text
    finally:
        stop(process)
    assert "within 0.5 s" in answer
    assert "4111" not in answer  # the late answer the server sent on cancel is dropped
    assert "within 0.5 s" in after  # the session goes on
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    cancels = [m for m in seen if m.get("method") == "notifications/cancelled"]
    assert len(cancels) == 2


def test_an_idle_session_ends_and_its_upstream_stops(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["raw"], "--idle-timeout", "0.3")
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            opened = client.post(url, json=HELLO)
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            assert client.post(url, json=ping, headers=session).status_code == 200
            deadline = time.monotonic() + 20
            while child_pids(process.pid) and time.monotonic() < deadline:
                time.sleep(0.05)  # polling the process table, not waiting for time to pass
            gone = client.post(url, json={**ping, "id": 3}, headers=session)
    finally:
        stop(process)
    assert child_pids(process.pid) == set()
    assert gone.status_code == 404


def test_a_stop_with_a_call_in_flight_takes_the_grace_period(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["raw"], "--shutdown-grace", "0.5")
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            opened = client.post(url, json=HELLO)
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call"}
            call["params"] = {"name": "slow_secret", "arguments": {}}
            request = client.build_request("POST", url, json=call, headers=session)
            response = client.send(request, stream=True)  # in flight, never answered
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            answer = response.read().decode()
            code = process.wait(30)
            took = time.monotonic() - started
    finally:
        stop(process)
    assert code in (0, -signal.SIGTERM)  # uvicorn hands the signal back once it has stopped
    assert took < 10  # the grace (0.5 s) and the upstream's stop, not the call's length
    assert "the session ended before the upstream server answered" in answer


def test_a_session_answers_only_the_client_that_opened_it(
    http_proxy: tuple[str, str], workdir: Path
) -> None:
    url, token = http_proxy
    with Proctor.from_config(workdir / "proctor.yaml") as guard:
        identity = guard.runtime.identity
        assert identity is not None
        mallory = identity.mint_dev_user_token("mallory", ("call:*",), ttl=600)
        other = guard.exchange(subject_token=mallory, actor="desk-bot").access_token
        again = identity.mint_dev_user_token("alice", ("call:*",), ttl=600)
        alice_anew = guard.exchange(subject_token=again, actor="desk-bot").access_token
    owner = {"Authorization": f"Bearer {token}", **ACCEPT}
    opened = httpx.post(url, json=HELLO, headers=owner)
    assert opened.status_code == 200
    session = {"mcp-session-id": opened.headers["mcp-session-id"]}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}

    stranger = {"Authorization": f"Bearer {other}", **ACCEPT, **session}
    assert httpx.post(url, json=listing, headers=stranger).status_code == 404
    assert httpx.get(url, headers=stranger).status_code == 404
    assert httpx.delete(url, headers=stranger).status_code == 404
    anonymous = {**ACCEPT, **session}
    assert httpx.post(url, json=listing, headers=anonymous).status_code == 401

    # the owner's session survived, and a fresh token of the same user and agent is theirs
    listed = httpx.post(url, json=listing, headers={**owner, **session})
    assert listed.status_code == 200
    fresh = {"Authorization": f"Bearer {alice_anew}", **ACCEPT, **session}
    assert httpx.delete(url, headers=fresh).status_code == 204
