"""A hand-written MCP server over stdio that trusts its client completely.

It does what a careless server does: runs a ``tools/call`` sent as a
notification, answers a call even after the client cancelled it, and answers
ids nobody sent. Every message it receives is appended to the file named by
``RAW_SERVER_LOG`` (one JSON line each), so a test can see what reached it.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

CARD = "4111 1111 1111 1111"
LOG = os.environ.get("RAW_SERVER_LOG")
TOOLS = [
    {"name": "secret", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": True}},
    {"name": "wait_secret", "inputSchema": {"type": "object"}},
    {"name": "slow_secret", "inputSchema": {"type": "object"}},
    {"name": "late", "inputSchema": {"type": "object"}},
    {"name": "crash", "inputSchema": {"type": "object"}},
    {"name": "blob_secret", "inputSchema": {"type": "object"}},
    {"name": "odd_progress", "inputSchema": {"type": "object"}},
    {
        "name": "touch",
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
]

PROMPTS = [{"name": "pay", "description": "Pay a bill.", "arguments": [{"name": "card"}]}]


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def answer(request_id: Any, result: dict[str, Any]) -> None:
    send({"jsonrpc": "2.0", "id": request_id, "result": result})


def card_result() -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"the card is {CARD}"}]}


def card_blob(uri: str, mime: str | None = "text/plain") -> dict[str, Any]:
    """The card as resource contents in base64, where a scanner reading text misses it."""
    encoded = base64.b64encode(f"the card is {CARD}".encode()).decode()
    contents = {"uri": uri, "blob": encoded}
    return {**contents, "mimeType": mime} if mime is not None else contents


def main() -> None:
    waiting: list[Any] = []  # calls of wait_secret, answered once the client answers us
    slow: list[Any] = []  # calls of slow_secret, answered when the client cancels them
    late: list[Any] = []  # calls of late, answered on the next roots/list_changed notification
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        if LOG:
            with Path(LOG).open("a") as log:
                log.write(json.dumps(message) + "\n")
        if not isinstance(message, dict):
            continue
        method, request_id = message.get("method"), message.get("id")
        params = message.get("params") or {}
        if method is None:  # the client's answer to our elicitation
            for call in waiting:
                answer(call, card_result())
            waiting.clear()
        elif method == "initialize":
            answer(
                request_id,
                {
                    "protocolVersion": params.get("protocolVersion", "2025-06-18"),
                    "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
                    "serverInfo": {"name": "raw", "version": "1"},
                },
            )
        elif method == "tools/list":
            answer(request_id, {"tools": TOOLS})
        elif method == "prompts/list":
            answer(request_id, {"prompts": PROMPTS})
        elif method == "tools/call":
            name = params.get("name")
            if name == "touch":  # runs whether or not the message has an id
                Path(params["arguments"]["path"]).write_text("ran")
                if request_id is not None:
                    answer(request_id, {"content": [{"type": "text", "text": "touched"}]})
            elif name == "wait_secret":
                waiting.append(request_id)
                send(
                    {
                        "jsonrpc": "2.0",
                        "id": "ask-1",
                        "method": "elicitation/create",
                        "params": {
                            "message": "go on?",
                            "requestedSchema": {"type": "object", "properties": {}},
                        },
                    }
                )
            elif name == "slow_secret":
                slow.append(request_id)
            elif name == "late":
                late.append(request_id)
            elif name == "crash":
                sys.exit(3)
            elif name == "odd_progress":  # progress whose token no request could have sent
                for odd in ({"progressToken": [1], "progress": 1}, [1], "x"):
                    send({"jsonrpc": "2.0", "method": "notifications/progress", "params": odd})
                answer(request_id, {"content": [{"type": "text", "text": "done"}]})
            elif name == "blob_secret":  # the card in embedded resources, and an image
                items = [
                    {"type": "resource", "resource": card_blob("file:///a.txt")},
                    {"type": "resource", "resource": card_blob("file:///b", None)},
                    {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
                ]
                answer(request_id, {"content": items})
            elif (params.get("arguments") or {}).get("surrogate"):  # sent as `\ud800`, unpaired
                text = f"the card is {CARD} \ud800"
                answer(request_id, {"content": [{"type": "text", "text": text}]})
            else:
                answer(request_id, card_result())
        elif method == "notifications/roots/list_changed":
            for call in late:
                answer(call, {"content": [{"type": "text", "text": "late answer"}]})
            late.clear()
        elif method == "notifications/cancelled":  # answered anyway, and an id never sent
            for call in slow:
                answer(call, card_result())
            slow.clear()
            answer(424242, card_result())
            send({"jsonrpc": "2.0", "result": card_result()})  # and no id at all
        elif method == "resources/read":
            uri = params.get("uri")
            if str(uri).startswith("blob:"):
                answer(request_id, {"contents": [card_blob(uri, "application/json")]})
            else:
                answer(request_id, {"contents": [{"uri": uri, "text": f"card: {CARD}"}]})
        elif method == "prompts/get":
            text = f"pay with {CARD}"
            answer(
                request_id,
                {"messages": [{"role": "user", "content": {"type": "text", "text": text}}]},
            )
        elif request_id is not None:
            answer(request_id, {})


if __name__ == "__main__":
    main()
