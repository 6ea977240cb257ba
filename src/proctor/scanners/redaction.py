"""Masking what a policy says to redact: in a text, or inside a nested argument tree.

Three modes: ``placeholder`` (``[pii.payment_card]``), ``mask`` (stars, the last
four characters kept for card, IBAN and account numbers so a person can still
tell them apart) and ``hash`` (``[hash:1f3a…]``, a keyed BLAKE2b digest: equal
values give equal tokens under one key, and the key keeps short values such as
card numbers from being recovered by guessing). A mapping's keys are masked
too, and masked keys stay apart (``[pii.email]``, ``[pii.email]#2``): two
entries whose keys mask alike are both kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from proctor.scanners.bounds import key_path

_KEEP_LAST_FOUR = ("pii.payment_card", "pii.iban", "pii.account")


@dataclass(frozen=True, slots=True)
class Span:
    """One stretch of a string to mask; ``path`` as in findings (``$.note``), None for a text."""

    path: str | None
    start: int
    end: int
    finding_type: str
    mode: str = "placeholder"


class Redactor:
    def __init__(self, key: bytes) -> None:
        self._key = key[:64]

    def text(self, text: str, spans: Iterable[Span]) -> str:
        """``text`` with every span replaced; overlapping spans merge into the first one."""
        ordered = sorted(spans, key=lambda span: (span.start, -span.end))
        pieces: list[str] = []
        cursor = 0
        for span in ordered:
            start, end = max(span.start, cursor), min(span.end, len(text))
            if start >= end:
                continue
            pieces.append(text[cursor:start])
            pieces.append(self._token(text[start:end], span))
            cursor = end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def tree(self, value: Any, spans: Iterable[Span]) -> Any:
        """A copy of ``value`` with the strings at the spans' paths redacted (others shared)."""
        by_path: dict[str, list[Span]] = {}
        for span in spans:
            if span.path is not None:
                by_path.setdefault(span.path, []).append(span)
        if not by_path:
            return value
        return self._walk("$", value, by_path)

    def _walk(self, path: str, node: Any, by_path: Mapping[str, list[Span]]) -> Any:
        if isinstance(node, str):
            found = by_path.get(path)
            return self.text(node, found) if found else node
        if isinstance(node, Mapping):
            if not any(key.startswith(path) for key in by_path):
                return node
            keys = [self._walk(key_path(path, i), key, by_path) for i, key in enumerate(node)]
            children = (self._walk(f"{path}.{key}", child, by_path) for key, child in node.items())
            return dict(zip(_distinct(list(node), keys), children, strict=True))
        if isinstance(node, list | tuple):
            if not any(key.startswith(path) for key in by_path):
                return node
            return [self._walk(f"{path}[{i}]", child, by_path) for i, child in enumerate(node)]
        return node

    def _token(self, value: str, span: Span) -> str:
        if span.mode == "mask":
            keep = 4 if span.finding_type in _KEEP_LAST_FOUR and len(value) > 8 else 0
            return "*" * (len(value) - keep) + (value[-keep:] if keep else "")
        if span.mode == "hash":
            digest = hashlib.blake2b(value.encode(), key=self._key, digest_size=8).hexdigest()
            return f"[hash:{digest}]"
        return f"[{span.finding_type}]"


def _distinct(keys: list[Any], masked: list[Any]) -> list[Any]:
    """``masked`` (the keys after redaction) with no two alike: a masked key that meets
    another one takes a number (``[pii.email]#2``), so no entry of the mapping is lost."""
    taken = {new for old, new in zip(keys, masked, strict=True) if new is old}
    distinct: list[Any] = []
    for old, new in zip(keys, masked, strict=True):
        if new is not old:
            number, unique = 1, new
            while unique in taken:
                number += 1
                unique = f"{new}#{number}"
            new = unique
            taken.add(new)
        distinct.append(new)
    return distinct
