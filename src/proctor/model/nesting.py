"""How deep JSON values nest, measured without recursion.

A decoded body can nest lists and objects nearly as deep as the parser's
recursion limit; anything that later walks it recursively (an encoder writing
it on, a response echoing it) then fails with ``RecursionError``. The edges
refuse such bodies where they read them.
"""

from __future__ import annotations

from typing import Any

MAX_WIRE_DEPTH = 128  # for a message or a body; the shapes proctor reads need a handful


def wire_nests_too_deep(raw: bytes | str, value: Any, limit: int = MAX_WIRE_DEPTH) -> bool:
    """Whether ``value``, decoded from ``raw``, nests lists and dicts past ``limit``: a
    count of the text's brackets first (in C, so most bodies need no walk), then the walk."""
    return _may_nest_deeper_than(raw, limit) and _nested_deeper_than(value, limit)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and dicts in ``value`` nest more than ``limit`` deep."""
    stack = [(value, 0)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth >= limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _may_nest_deeper_than(raw: bytes | str, limit: int) -> bool:
    """False when the text of a JSON value has too few brackets to nest past ``limit``."""
    if isinstance(raw, bytes):
        return raw.count(b"[") + raw.count(b"{") > limit
    return raw.count("[") + raw.count("{") > limit
