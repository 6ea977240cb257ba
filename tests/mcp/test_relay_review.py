"""Attacks on the proxy's review through the MCP wire, over both fronts, against two servers.

``raw`` is a hand-written server that trusts its client (it runs a call sent
as a notification and answers calls it was told to cancel); ``sdk`` is built
with the official ``mcp`` SDK. Every result carries a card number that the
policy's ``scan: output`` redacts: a card that reaches the client in clear is
a result that bypassed the review.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.conftest import DECLARED, audit_records
from tests.mcp.wires import UPSTREAMS, HttpWire, Message, StdioWire, Wire, open_wire

CARD = "4111 1111 1111 1111"
REDACTED = "[pii.payment_card]"
POLICY = """\
name: review
scan:
  output:
    pii.payment_card: redact
rules:
  - {id: tools, action: "call:*", effect: allow}
  - {id: the-card, action: "read:*", effect: allow, when: "resource == 'secret://card'"}
  - {id: pay, action: "get:*", effect: allow, when: "resource == 'pay'"}
"""
BOTH = pytest.mark.parametrize("server", ["raw", "sdk"])
FRONTS = pytest.mark.parametrize("front", ["stdio", "http"])


@pytest.fixture
def wired(workdir: Path) -> Path:
    (workdir / "policy.yaml").write_text(POLICY)
    return workdir


@pytest.fixture
def server_log(wired: Path) -> Path:
    return wired / "raw-server.jsonl"


def _wire(front: str, workdir: Path, server: str) -> Wire:
    return open_wire(front, workdir, server, {"RAW_SERVER_LOG": str(workdir / "raw-server.jsonl")})


def _received(log: Path) -> list[Message]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _request(request_id: Any, method: str, **params: Any) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def _call(request_id: Any, name: str, **arguments: Any) -> Message:
    return _request(request_id, "tools/call", name=name, arguments=arguments)


PING: Message = {"jsonrpc": "2.0", "id": "ping", "method": "ping"}


@FRONTS
@BOTH
def test_an_id_in_flight_is_not_reused(front: str, server: str, wired: Path) -> None:
    """A `tools/list` with the id of a call in flight is refused; the call is reviewed once."""
    wire = _wire(front, wired, server)
    try:
        messages = wire.stream(_call(1, "wait_secret"))
        ask = next(item for item in messages if item.get("method") == "elicitation/create")
        reused = wire.answer({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert reused["error"]["code"] == -32600
        assert "already in flight" in reused["error"]["message"]
        wire.send(
            {
                "jsonrpc": "2.0",
                "id": ask["id"],
                "result": {"action": "accept", "content": {"go": True}},
            }
        )
        result = list(messages)[-1]
    finally:
        wire.close()
    assert result["id"] == 1
    assert CARD not in json.dumps(result)
    assert REDACTED in json.dumps(result)
    outputs = [r for r in audit_records(wired) if r["kind"] == "output"]
    assert [r["action"] for r in outputs] == [f"call:{server}/wait_secret"]


@FRONTS
def test_a_result_with_a_lone_surrogate_is_still_reviewed(front: str, wired: Path) -> None:
    """JSON's unpaired `\\ud800` once broke every RE2 stage: the card passed in clear."""
    wire = _wire(front, wired, "raw")
    try:
        result = wire.answer(_call(7, "secret", surrogate=True))
    finally:
        wire.close()
    assert CARD not in json.dumps(result)
    assert REDACTED in json.dumps(result)


@BOTH
def test_a_batch_reusing_an_id(server: str, wired: Path) -> None:
    """A call and a list with one id in one batch: the list is refused, the call reviewed."""
    wire = _wire("stdio", wired, server)
    assert isinstance(wire, StdioWire)
    try:
        wire.send([_call(7, "secret"), {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}])
        answers = [wire.read(), wire.read()]
    finally:
        wire.close()
    refused = [item for item in answers if "error" in item]
    results = [item for item in answers if "result" in item]
    assert [item["id"] for item in answers] == [7, 7]
    assert refused[0]["error"]["code"] == -32600
    assert CARD not in json.dumps(results)
    assert REDACTED in json.dumps(results)


def test_http_refuses_batches(wired: Path) -> None:
    wire = _wire("http", wired, "raw")
    try:
        assert isinstance(wire, HttpWire)
        body = json.dumps([_call(7, "secret"), {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}])
        refused = wire.post(body.encode())
    finally:
        wire.close()
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == -32600


@FRONTS
@BOTH
def test_a_cancelled_call_answered_anyway_is_dropped(
    front: str, server: str, wired: Path, server_log: Path
) -> None:
    """The client cancels its own call; a result the server sends anyway never reaches it raw.

    The hand-written server answers the cancelled call, and an id never sent,
    only once the cancellation reached it; the ping after shows all of it has
    passed through the proxy.
    """
    wire = _wire(front, wired, server)
    tool = "slow_secret" if server == "raw" else "secret"
    try:
        pending = wire.stream(_call(8, tool))
        wire.send(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 8}}
        )
        seen = wire.call(PING)
        if front == "http":
            seen += list(pending)  # its stream ended: no answer will come
    finally:
        wire.close()
    assert CARD not in json.dumps(seen)
    if server == "raw":
        assert all(item.get("id") != 8 for item in seen)
        cancels = [m for m in _received(server_log) if m.get("method") == "notifications/cancelled"]
        calls = [m for m in _received(server_log) if m.get("method") == "tools/call"]
        assert cancels[0]["params"]["requestId"] == calls[0]["id"] != 8  # the proxy's own id
        outputs = [r for r in audit_records(wired) if r["kind"] == "output"]
        assert outputs == []  # dropped, not passed on


@FRONTS
@BOTH
def test_a_tool_call_notification_is_dropped_and_recorded(
    front: str, server: str, wired: Path, tmp_path: Path, server_log: Path
) -> None:
    marker = tmp_path / "ran.txt"
    wire = _wire(front, wired, server)
    try:
        wire.send(
            {
                "jsonrpc": "2.0",
                "method": "tools/call",
                "params": {"name": "touch", "arguments": {"path": str(marker)}},
            }
        )
        assert wire.answer(PING)["result"] == {}  # the server has had every earlier message
    finally:
        wire.close()
    assert not marker.exists()
    assert all(m.get("method") != "tools/call" for m in _received(server_log))
    refused = [r for r in audit_records(wired) if r["kind"] == "decision"]
    assert [(r["action"], r["effect"], r["code"]) for r in refused] == [
        (f"call:{server}/touch", "deny", "mcp_notification_refused")
    ]
    assert refused[0]["args"] == {"path": str(marker)}


@FRONTS
@BOTH
def test_resources_and_prompts_are_checked_and_scanned(
    front: str, server: str, wired: Path, server_log: Path
) -> None:
    wire = _wire(front, wired, server)
    try:
        other = wire.answer(_request(2, "resources/read", uri="secret://other"))
        card = wire.answer(_request(3, "resources/read", uri="secret://card"))
        unnamed = wire.answer(_request(4, "prompts/get", name="steal"))
        pay = wire.answer(_request(5, "prompts/get", name="pay"))
    finally:
        wire.close()
    assert other["error"]["code"] == -32003
    assert other["error"]["data"]["action"] == f"read:{server}/resource"
    assert "was denied" in other["error"]["message"]
    assert unnamed["error"]["code"] == -32003
    assert unnamed["error"]["data"]["effect"] == "deny"
    for answer in (card, pay):
        assert CARD not in json.dumps(answer)
        assert REDACTED in json.dumps(answer["result"])
    reached = [(m.get("method"), m.get("params")) for m in _received(server_log)]
    assert ("resources/read", {"uri": "secret://other"}) not in reached
    assert ("prompts/get", {"name": "steal"}) not in reached
    records = audit_records(wired)
    decisions = [
        (r["action"], r["resource"], r["effect"]) for r in records if r["kind"] == "decision"
    ]
    assert decisions == [
        (f"read:{server}/resource", "secret://other", "deny"),
        (f"read:{server}/resource", "secret://card", "allow"),
        (f"get:{server}/prompt", "steal", "deny"),
        (f"get:{server}/prompt", "pay", "allow"),
    ]
    outputs = [r["action"] for r in records if r["kind"] == "output"]
    assert outputs == [f"read:{server}/resource", f"get:{server}/prompt"]


BAD_IDS: list[Any] = [[1], {"a": 1}, True, 1.5, None, "x" * 1000, 2**70]


@FRONTS
def test_unusable_ids_are_invalid_requests(front: str, wired: Path, server_log: Path) -> None:
    wire = _wire(front, wired, "raw")
    try:
        answers: list[Message] = []
        for bad in BAD_IDS:
            body = json.dumps(_call(bad, "secret")).encode()
            if isinstance(wire, HttpWire):
                response = wire.post(body)
                assert response.status_code == 400
                answers.append(response.json())
            else:
                assert isinstance(wire, StdioWire)
                wire.write(body)
                answers.append(wire.read())
        assert wire.answer(PING)["result"] == {}  # still serving
    finally:
        wire.close()
    assert [item["id"] for item in answers] == [None] * len(BAD_IDS)
    assert {item["error"]["code"] for item in answers} == {-32600}
    assert all(m.get("method") != "tools/call" for m in _received(server_log))


def test_stdio_answers_malformed_batches(wired: Path) -> None:
    wire = _wire("stdio", wired, "raw")
    assert isinstance(wire, StdioWire)
    try:
        wire.write(b"[]")
        empty = wire.read()
        wire.write(b'[5, {"jsonrpc": "2.0", "id": 3, "method": 5}]')
        scalar, method = wire.read(), wire.read()
        wire.write(b'{"jsonrpc": "2.0", "id": [1], "result": {}}')  # a response: dropped
        wire.send(PING)
        assert wire.read() == {"jsonrpc": "2.0", "id": "ping", "result": {}}  # nothing before
    finally:
        wire.close()
    assert empty["error"]["code"] == scalar["error"]["code"] == -32600
    assert (method["id"], method["error"]["code"]) == (3, -32600)


def test_several_servers_behind_one_session(wired: Path, tmp_path: Path) -> None:
    """The same attacks when the proxy fronts two servers under prefixed names."""
    config = wired / "proctor.yaml"
    servers = "".join(
        f"    {name}: {{command: {json.dumps(command)}}}\n" for name, command in UPSTREAMS.items()
    )
    config.write_text(
        config.read_text()
        .replace(DECLARED, "")
        .replace("mcp_proxy:\n  servers:\n", "mcp_proxy:\n  servers:\n" + servers)
    )
    marker = tmp_path / "ran.txt"
    wire = StdioWire(wired, None, {"PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice"})
    try:
        wire.open()
        touch = {"name": "raw__touch", "arguments": {"path": str(marker)}}
        wire.send({"jsonrpc": "2.0", "method": "tools/call", "params": touch})
        messages = wire.stream(_call(1, "raw__wait_secret"))
        ask = next(item for item in messages if item.get("method") == "elicitation/create")
        reused = wire.answer(_call(1, "sdk__secret"))
        assert reused["error"]["code"] == -32600
        wire.send({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept"}})
        result = list(messages)[-1]
    finally:
        wire.close()
    assert not marker.exists()
    assert CARD not in json.dumps(result)
    assert REDACTED in json.dumps(result)
    decisions = [(r["action"], r["code"]) for r in audit_records(wired) if r["kind"] == "decision"]
    assert decisions[0] == ("call:raw/touch", "mcp_notification_refused")
