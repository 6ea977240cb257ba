"""Resumable streams on the wire: event ids, the priming event, ``Last-Event-ID``; and the
negotiated protocol version sent to an HTTP upstream, so an upstream's own streams resume."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

from tests.mcp.listening import ACCEPT, HELLO, conformance_over_http, listening, stop
from tests.mcp.wires import UPSTREAMS

INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def _events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
            continue
        field, _, value = line.partition(":")
        event[field] = value.removeprefix(" ")
    if event:
        yield event


def _open(client: httpx.Client, url: str, version: str) -> dict[str, str]:
    hello = {**HELLO, "params": {**HELLO["params"], "protocolVersion": version}}
    opened = client.post(url, json=hello)
    assert opened.status_code == 200
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": version}
    assert client.post(url, json=INITIALIZED, headers=session).status_code == 202
    return session


def _progress_call(request_id: int) -> dict[str, Any]:
    params = {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "p"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def test_a_broken_stream_is_resumed_with_last_event_id(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["conformance"], name="conformance")
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            session = _open(client, url, "2025-11-25")
            with client.stream("POST", url, json=_progress_call(2), headers=session) as posted:
                priming = next(_events(posted.iter_lines()))  # then the connection breaks
            resume = {**session, "Last-Event-ID": priming["id"]}
            resumed = list(_events(client.get(url, headers=resume).iter_lines()))
            again = {**session, "Last-Event-ID": resumed[1]["id"]}
            replayed = list(_events(client.get(url, headers=again).iter_lines()))
            stale = client.get(url, headers={**session, "Last-Event-ID": "r999.1"})
            foreign = client.get(url, headers={**session, "Last-Event-ID": "not-ours"})
    finally:
        stop(process)
    assert priming["data"] == ""
    assert priming["retry"] == "1000"
    stream = priming["id"].rpartition(".")[0]
    messages = [json.loads(event["data"]) for event in resumed if event.get("data")]
    assert [m.get("method") for m in messages[:3]] == ["notifications/progress"] * 3
    assert messages[-1]["id"] == 2
    assert messages[-1]["result"]["content"][0]["text"] == "p"
    assert [event["id"] for event in resumed if event.get("data")] == [
        f"{stream}.{n}" for n in range(1, len(messages) + 1)
    ]
    # from the second event on: the events after it, the answer last
    assert [event["id"] for event in replayed if event.get("data")] == [
        event["id"] for event in resumed[2:] if event.get("data")
    ]
    assert stale.status_code == 400
    assert foreign.status_code == 400


def test_a_client_before_2025_11_25_gets_ids_and_no_priming(workdir: Path) -> None:
    process, url = listening(workdir, UPSTREAMS["conformance"], name="conformance")
    try:
        with httpx.Client(timeout=30, headers=ACCEPT) as client:
            session = _open(client, url, "2025-06-18")
            posted = client.post(url, json=_progress_call(2), headers=session)
    finally:
        stop(process)
    events = list(_events(posted.iter_lines()))
    assert all(event.get("data") for event in events)  # nothing an older client would parse
    assert all(event["id"].endswith(f".{n}") for n, event in enumerate(events, 1))
    assert json.loads(events[-1]["data"])["id"] == 2


@pytest.fixture
def http_upstream() -> Iterator[str]:
    with conformance_over_http() as url:
        yield url


@pytest.mark.anyio
async def test_an_upstream_that_closes_its_stream_mid_call_is_resumed(
    workdir: Path, http_upstream: str, anyio_backend: str
) -> None:
    process, url = listening(workdir, [], "--upstream", http_upstream, name="conformance")
    # the client names the proxy `localhost`: the upstream, which accepts only its own
    # `127.0.0.1:PORT`, must be called with its own Host and not with the client's
    local = url.replace("127.0.0.1", "localhost")
    try:
        async with (
            streamable_http_client(local) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            answer = await session.call_tool("test_reconnection", {})
    finally:
        stop(process)
    assert not answer.is_error
    texts = [c.text for c in answer.content if isinstance(c, TextContent)]
    # without MCP-Protocol-Version the upstream takes the client for a 2025-03-26 one and
    # keeps its stream open: the resumption through the proxy would go untested
    assert texts == ["answered after closing its stream"]
