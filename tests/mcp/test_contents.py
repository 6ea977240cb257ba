"""Resource contents sent as base64 blobs are reviewed as the text they encode (MCP wire)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.wires import Message, open_wire

CARD = "4111 1111 1111 1111"
POLICY = (
    "name: review\n"
    "scan: {output: {pii.payment_card: redact}}\n"
    "rules: [{action: 'call:*', effect: allow}, {action: 'read:*', effect: allow}]\n"
)


def _request(request_id: int, method: str, **params: Any) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def _decoded(answer: Message) -> str:
    """The answer with every blob decoded, as a client that shows text blobs would read it."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: base64.b64decode(v).decode() if k == "blob" else walk(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return json.dumps(walk(answer))


@pytest.mark.parametrize("front", ["stdio", "http"])
def test_a_card_in_a_text_blob_is_redacted_like_text(front: str, workdir: Path) -> None:
    """A server that base64-encodes its result (a `text/plain`, an untyped or a JSON blob)
    got the card past the output scan; now the blob is reviewed and passed on as text,
    and binary contents (an image) pass as they came."""
    (workdir / "policy.yaml").write_text(POLICY)
    wire = open_wire(front, workdir, "raw")
    try:
        called = wire.answer(_request(1, "tools/call", name="blob_secret", arguments={}))
        read = wire.answer(_request(2, "resources/read", uri="blob://card"))
    finally:
        wire.close()
    for answer in (called, read):
        assert CARD not in _decoded(answer)
        assert "[pii.payment_card]" in _decoded(answer)
    items = called["result"]["content"]
    assert [item["resource"]["text"] for item in items[:2]] == [
        "the card is [pii.payment_card]"
    ] * 2
    assert items[0]["resource"]["mimeType"] == "text/plain"
    assert items[2] == {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="}
    assert read["result"]["contents"][0]["mimeType"] == "application/json"
