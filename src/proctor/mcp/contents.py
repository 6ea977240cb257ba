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

MAX_DEPTH = 32  # as deep as a review reads a result (runtime.scanning.output_tree)
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


def opened(value: Any, depth: int = 0) -> Any:
    """``value`` with every textual ``blob`` as ``text``; ``value`` itself when there is none."""
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        as_text = _as_text(value)
        if as_text is not None:
            return as_text
        changed = {key: opened(item, depth + 1) for key, item in value.items()}
        same = all(changed[key] is item for key, item in value.items())
        return value if same else changed
    if isinstance(value, list):
        items = [opened(item, depth + 1) for item in value]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    return value


def _as_text(contents: dict[str, Any]) -> dict[str, Any] | None:
    """Resource contents (``uri`` and ``blob``) as text contents, when the blob is text."""
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
