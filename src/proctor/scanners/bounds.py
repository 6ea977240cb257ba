"""Bounds on what a scan reads: huge texts, bytes that are not UTF-8, deep argument trees.

A huge text is scanned on its first and last ``edge_chars`` characters and a
``scan.truncated`` finding says which part was skipped; bytes are decoded with
replacement and a ``content.invalid_utf8`` or ``content.binary`` finding says so;
argument trees are walked iteratively, at most ``max_depth`` deep and
``max_nodes`` wide, and a ``scan.truncated`` finding says where the walk stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from proctor.scanners.findings import Finding

BOUNDS_SCANNER = "bounds"


@dataclass(frozen=True, slots=True)
class Bounds:
    edge_chars: int = 32 * 1024
    max_depth: int = 32
    max_nodes: int = 10_000


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of the text to scan and its offset in the whole text."""

    offset: int
    text: str


def segments(text: str, bounds: Bounds) -> tuple[list[Segment], list[Finding]]:
    """The whole text when it is small enough, else its head and tail, with a finding."""
    edge = bounds.edge_chars
    if len(text) <= 2 * edge:
        return [Segment(0, text)], []
    tail_start = len(text) - edge
    note = Finding(
        type="scan.truncated",
        start=edge,
        end=tail_start,
        score=0.0,
        scanner=BOUNDS_SCANNER,
        detail=(
            f"text of {len(text)} characters: scanned the first and last {edge}, "
            f"skipped {tail_start - edge}"
        ),
    )
    return [Segment(0, text[:edge]), Segment(tail_start, text[tail_start:])], [note]


def decode(data: bytes) -> tuple[str, list[Finding]]:
    """Text from bytes, never failing: invalid UTF-8 is replaced and reported."""
    try:
        text = data.decode("utf-8")
        notes: list[Finding] = []
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        notes = [
            Finding(
                type="content.invalid_utf8",
                start=0,
                end=len(text),
                score=0.0,
                scanner=BOUNDS_SCANNER,
                detail=f"invalid UTF-8 from byte {exc.start}; decoded with replacement",
            )
        ]
    sample = data[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and (b"\x00" in sample or controls / len(sample) > 0.1):
        notes.append(
            Finding(
                type="content.binary",
                start=0,
                end=len(text),
                score=0.0,
                scanner=BOUNDS_SCANNER,
                detail=f"{controls} control bytes in the first {len(sample)}",
            )
        )
    return text, notes


def strings_in(value: Any, bounds: Bounds) -> tuple[list[tuple[str, str]], list[Finding]]:
    """``(path, text)`` for every string (and dict key) in a nested argument tree.

    Walked iteratively (no recursion limit to hit); stops at ``max_depth`` and
    ``max_nodes``, and reports where with a ``scan.truncated`` finding.
    """
    found: list[tuple[str, str]] = []
    notes: list[Finding] = []
    stack: list[tuple[str, Any, int]] = [("$", value, 0)]
    visited = 0
    while stack:
        path, node, depth = stack.pop()
        visited += 1
        if visited > bounds.max_nodes:
            notes.append(_cut(path, f"more than {bounds.max_nodes} values; the rest not scanned"))
            break
        if isinstance(node, str):
            found.append((path, node))
        elif isinstance(node, bytes | bytearray):
            text, byte_notes = decode(bytes(node))
            found.append((path, text))
            notes.extend(note.at_path(path) for note in byte_notes)
        elif isinstance(node, Mapping | list | tuple):
            if depth >= bounds.max_depth:
                notes.append(_cut(path, f"nested deeper than {bounds.max_depth}; not scanned"))
                continue
            stack.extend(reversed(list(_children(path, node, depth + 1))))
    return found, notes


def _children(path: str, node: Any, depth: int) -> Iterator[tuple[str, Any, int]]:
    if isinstance(node, Mapping):
        for key, child in node.items():
            child_path = f"{path}.{key}"
            if isinstance(key, str):
                yield f"{path}.<key:{key[:64]}>", key, depth
            yield child_path, child, depth
    else:
        for index, child in enumerate(node):
            yield f"{path}[{index}]", child, depth


def _cut(path: str, detail: str) -> Finding:
    return Finding(
        type="scan.truncated",
        start=0,
        end=0,
        score=0.0,
        scanner=BOUNDS_SCANNER,
        detail=detail,
        path=path,
    )
