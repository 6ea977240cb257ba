"""Resource contents sent as base64 ``blob`` that are text, opened up to be reviewed as text.

MCP carries a resource's contents as ``text`` or as a base64 ``blob``
(``BlobResourceContents``), in a ``resources/read`` result's ``contents`` and
in a tool result's embedded ``resource`` items. A scanner reads the base64,
not what it encodes, so a server could pass a secret or an injected
instruction past the review by encoding it. A blob whose ``mimeType`` is
textual (or absent) and that decodes to UTF-8 text is turned into the same
contents with ``text``: the review reads it, and the client gets it, as text.
Binary types (images, audio, ``application/octet-stream``...) pass as they came.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/javascript",
    "application/ecmascript",
    "application/x-sh",
    "application/sql",
    "application/toml",
    "application/graphql",
)


def opened(result: Any) -> Any:
    """``result`` with every textual blob as text; ``result`` itself when there is none.

    Resource contents are looked for where MCP puts them: a ``resources/read``
    result's ``contents``, a tool result's ``content`` items of type
    ``resource``, and a prompt's ``messages`` whose ``content`` is one.
    """
    if not isinstance(result, dict):
        return result
    changed = dict(result)
    contents = result.get("contents")
    if isinstance(contents, list):
        changed["contents"] = [_as_text(item) or item for item in contents]
    content = result.get("content")
    if isinstance(content, list):
        changed["content"] = [_embedded(item) for item in content]
    messages = result.get("messages")
    if isinstance(messages, list):
        changed["messages"] = [_message(item) for item in messages]
    same = all(changed[key] == result[key] for key in changed)
    return result if same else changed


def _embedded(item: Any) -> Any:
    """A content item of type ``resource`` with its contents as text, when they are."""
    if not isinstance(item, dict) or item.get("type") != "resource":
        return item
    as_text = _as_text(item.get("resource"))
    return {**item, "resource": as_text} if as_text is not None else item


def _message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    content = _embedded(message.get("content"))
    return message if content is message.get("content") else {**message, "content": content}


def _as_text(contents: Any) -> dict[str, Any] | None:
    """Resource contents (``uri`` and ``blob``) as text contents, when the blob is text."""
    if not isinstance(contents, dict):
        return None
    blob, mime = contents.get("blob"), contents.get("mimeType")
    if not isinstance(blob, str) or not isinstance(contents.get("uri"), str) or "text" in contents:
        return None
    if mime is not None and not (isinstance(mime, str) and textual(mime)):
        return None
    try:
        text = base64.b64decode(blob, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, or bytes that are not UTF-8
        return None
    return {**{k: v for k, v in contents.items() if k != "blob"}, "text": text}


def textual(mime: str) -> bool:
    """Whether a ``mimeType`` names text (``text/*``, JSON, XML, YAML, scripts...)."""
    kind = mime.split(";")[0].strip().lower()
    return (
        kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml", "+yaml"))
    )
