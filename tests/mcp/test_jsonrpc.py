"""Which client messages the proxy can relay, and the `-32600` answer to the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from proctor.mcp.jsonrpc import (
    MAX_ID_CHARS,
    each_message,
    envelope_problem,
    id_problem,
)
from proctor.model.nesting import MAX_WIRE_DEPTH
from tests.mcp.wires import HttpWire, StdioWire, open_wire


@pytest.mark.parametrize("value", [0, -1, 2**62, "", "a" * MAX_ID_CHARS, "01J"])
def test_usable_ids(value: Any) -> None:
    assert id_problem(value) is None


@pytest.mark.parametrize(
    "value", [None, True, False, 1.0, 1.5, [1], {"a": 1}, "a" * (MAX_ID_CHARS + 1), 2**63, -(2**63)]
)
def test_unusable_ids(value: Any) -> None:
    assert id_problem(value) is not None


@pytest.mark.parametrize(
    ("message", "answer_id"),
    [
        (5, None),
        ([], None),
        ({"jsonrpc": "2.0"}, None),
        ({"jsonrpc": "2.0", "id": [1], "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": 3, "method": 5}, 3),
        ({"jsonrpc": "2.0", "method": ["tools/call"]}, None),
    ],
)
def test_envelope_problems(message: Any, answer_id: Any) -> None:
    problem = envelope_problem(message)
    assert problem is not None
    assert problem["id"] == answer_id
    assert problem["error"]["code"] == -32600


def test_usable_messages() -> None:
    assert envelope_problem({"jsonrpc": "2.0", "id": 1, "method": "ping"}) is None
    assert envelope_problem({"jsonrpc": "2.0", "method": "notifications/initialized"}) is None
    assert envelope_problem({"jsonrpc": "2.0", "id": "s1", "result": {}}) is None


def test_each_message_handles_a_batch_in_order_and_answers_only_what_is_unusable() -> None:
    handled: list[Any] = []
    answered: list[Any] = []

    async def handle(message: dict[str, Any]) -> None:
        handled.append(message.get("id"))

    async def send_down(message: dict[str, Any]) -> None:
        answered.append(message["error"]["message"])

    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        [],  # a batch inside a batch is read as one: empty, so answered
        {"jsonrpc": "2.0", "id": [2], "result": {}},  # an unusable response: dropped
        {"jsonrpc": "2.0", "method": 3},
        {"jsonrpc": "2.0", "id": 4, "result": {}},
    ]
    anyio.run(each_message, batch, send_down, handle)
    assert handled == [1, 4]
    assert answered == ["an empty batch", "`method` is a string"]


@pytest.mark.parametrize("front", ["stdio", "http"])
@pytest.mark.parametrize("depth", [200_000, 960, MAX_WIRE_DEPTH + 1])
def test_a_message_nested_too_deeply_leaves_the_proxy_serving(
    front: str, depth: int, workdir: Path
) -> None:
    """200,000 nested lists raised `RecursionError` in the parser (the stdio proxy exited,
    the HTTP front answered 500); 960 parsed, then failed when written to the server (a
    500). Past `MAX_WIRE_DEPTH` a message is now unreadable text: -32700, or dropped."""
    deep = (
        f'{{"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {{"a": '
        f"{'[' * depth}{']' * depth}}}}}"
    ).encode()
    wire = open_wire(front, workdir, "raw")
    try:
        if isinstance(wire, HttpWire):
            refused = wire.post(deep)
            assert refused.status_code == 400
            assert refused.json()["error"]["code"] == -32700
        else:
            assert isinstance(wire, StdioWire)
            wire.write(deep)  # dropped, like any line that is not JSON
        assert wire.answer({"jsonrpc": "2.0", "id": "p", "method": "ping"})["result"] == {}
    finally:
        wire.close()
