"""The few JSON-RPC 2.0 shapes the proxy reads or writes (messages stay plain dicts)."""

from __future__ import annotations

from typing import Any

Message = dict[str, Any]

# JSON-RPC 2.0 §5.1 codes, and the MCP code for a request the proxy cannot route.
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


def is_request(message: Message) -> bool:
    return "method" in message and "id" in message


def is_response(message: Message) -> bool:
    return "method" not in message and "id" in message


def error_response(request_id: Any, code: int, text: str) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": text}}


def tool_error(request_id: Any, text: str, *, modern: bool = False) -> Message:
    """A ``tools/call`` result with ``isError``: the model reads it and can adapt.

    ``modern``: the session speaks a protocol era (2026-07-28 on) whose results
    carry ``resultType``.
    """
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": True}
    if modern:
        result["resultType"] = "complete"
    return {"jsonrpc": "2.0", "id": request_id, "result": result}
