"""The few JSON-RPC 2.0 shapes the proxy reads or writes (messages stay plain dicts)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from proctor.model.nesting import MAX_WIRE_DEPTH, wire_nests_too_deep

Message = dict[str, Any]

# JSON-RPC 2.0 §5.1 codes, and the MCP code for a request the proxy cannot route.
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# An implementation-defined server error (§5.1: -32000 to -32099): a policy refused the request.
REFUSED = -32003

# A request id is a string or an integer (MCP: never null); bounded, so the
# proxy's table of requests in flight stays small.
MAX_ID_CHARS = 256
_MAX_INT_ID = 2**63


def parse(raw: bytes | str) -> Any:
    """The JSON value of one line or body; ``ValueError`` when it is none.

    A message nested deeper than ``MAX_WIRE_DEPTH`` is refused like unreadable
    text: past the parser's recursion limit it raised ``RecursionError``, and a
    little below it passed, to fail when it was written on (both ended the session).
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError("the message is nested too deeply") from None
    if wire_nests_too_deep(raw, value):
        raise ValueError(f"the message is nested deeper than {MAX_WIRE_DEPTH}")
    return value


def is_request(message: Message) -> bool:
    return "method" in message and "id" in message


def is_response(message: Message) -> bool:
    return "method" not in message and "id" in message


def id_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a request id, or None when it can."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return "a request `id` is a string or an integer"
    if isinstance(value, str) and len(value) > MAX_ID_CHARS:
        return f"a request `id` is at most {MAX_ID_CHARS} characters"
    if isinstance(value, int) and not -_MAX_INT_ID < value < _MAX_INT_ID:
        return "a request `id` fits in 64 bits"
    return None


def envelope_problem(message: Any) -> Message | None:
    """The ``-32600`` answer to a client message that is not a usable one, else None.

    A request or response needs a valid id; a request or notification needs a
    string ``method``. The answer's id is null when the id itself is the problem
    (JSON-RPC 2.0 §5).
    """
    if not isinstance(message, dict):
        return error_response(None, INVALID_REQUEST, "a JSON-RPC message is an object")
    if "id" in message and (problem := id_problem(message["id"])) is not None:
        return error_response(None, INVALID_REQUEST, problem)
    method = message.get("method")
    if "method" in message and not isinstance(method, str):
        return error_response(message.get("id"), INVALID_REQUEST, "`method` is a string")
    if "method" not in message and "id" not in message:
        return error_response(None, INVALID_REQUEST, "a message needs a `method` or an `id`")
    return None


async def each_message(
    message: Any,
    send_down: Callable[[Message], Awaitable[None]],
    handle: Callable[[Message], Awaitable[None]],
) -> None:
    """``handle`` each usable message a client sent, in order: a batch (2025-03-26) item by
    item. An empty batch or an unusable message is answered with its ``-32600``; an
    unusable response is dropped (a response is never answered)."""
    if isinstance(message, list):
        if not message:
            await send_down(error_response(None, INVALID_REQUEST, "an empty batch"))
        for item in message:
            await each_message(item, send_down, handle)
        return
    problem = envelope_problem(message)
    if problem is not None:
        if not (isinstance(message, dict) and is_response(message)):
            await send_down(problem)
        return
    await handle(message)


def error_response(request_id: Any, code: int, text: str, data: Any = None) -> Message:
    error: dict[str, Any] = {"code": code, "message": text}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def tool_error(request_id: Any, text: str, *, modern: bool = False) -> Message:
    """A ``tools/call`` result with ``isError``: the model reads it and can adapt.

    ``modern``: the session speaks a protocol era (2026-07-28 on) whose results
    carry ``resultType``.
    """
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": True}
    if modern:
        result["resultType"] = "complete"
    return {"jsonrpc": "2.0", "id": request_id, "result": result}
