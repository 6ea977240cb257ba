"""Which client messages the proxy can relay, and the `-32600` answer to the others."""

from __future__ import annotations

from typing import Any

import pytest

from proctor.mcp.jsonrpc import MAX_ID_CHARS, envelope_problem, id_problem


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
