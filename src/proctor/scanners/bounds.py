"""Bounds on what a scan reads: huge texts, bytes that are not UTF-8, deep argument trees.

A long text is scanned whole, in chunks of ``chunk_chars`` that overlap by
``overlap_chars`` (so a finding up to that long that straddles a boundary lies
whole in one chunk), up to ``max_chars`` characters per scan call (all the
strings of one call's arguments together); what lies past that bound is not
scanned and a ``scan.truncated`` finding says so (a policy that denies or holds
any finding family then applies that verdict: see ``ScanPlan.verdict``).
Bytes are decoded with replacement and a ``content.invalid_utf8`` or
``content.binary`` finding says so; argument trees are walked iteratively, at
most ``max_depth`` deep and ``max_nodes`` wide, and a ``scan.truncated``
finding says where the walk stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from proctor.scanners.findings import Finding

BOUNDS_SCANNER = "bounds"


TRUNCATED = "scan.truncated"


@dataclass(frozen=True, slots=True)
class Bounds:
    chunk_chars: int = 64 * 1024
    overlap_chars: int = 4 * 1024
    max_chars: int = 8 * 1024 * 1024  # per scan call: 8 Mi characters
    max_depth: int = 32
    max_nodes: int = 10_000

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_chars < self.chunk_chars:
            raise ValueError("`overlap_chars` must be at least 0 and less than `chunk_chars`")


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of the text to scan and its offset in the whole text.

    ``keep``: findings starting at or past this index of ``text`` are dropped,
    the next chunk (which starts there) finds them whole; None keeps all.
    """

    offset: int
    text: str
    keep: int | None = None


def segments(
    text: str, bounds: Bounds, limit: int | None = None
) -> tuple[list[Segment], list[Finding]]:
    """The text in overlapping chunks, up to ``limit`` characters (``max_chars``).

    A text that fits one chunk is one segment, uncopied (the common case). Past
    the limit the rest is skipped and a ``scan.truncated`` finding spans it.
    """
    limit = bounds.max_chars if limit is None else max(0, limit)
    size = len(text)
    if size <= bounds.chunk_chars and size <= limit:
        return [Segment(0, text)], []
    covered = min(size, limit)
    step = bounds.chunk_chars - bounds.overlap_chars
    parts: list[Segment] = []
    start = 0
    while start < covered:
        end = min(start + bounds.chunk_chars, covered)
        last = end >= covered
        parts.append(Segment(start, text[start:end], None if last else step))
        if last:
            break
        start += step
    if covered == size:
        return parts, []
    note = Finding(
        type=TRUNCATED,
        start=covered,
        end=size,
        score=1.0,  # certain: that part was not read
        scanner=BOUNDS_SCANNER,
        detail=(
            f"text of {size} characters: scanned the first {covered}, skipped {size - covered} "
            f"(at most {bounds.max_chars} characters are scanned per call)"
        ),
    )
    return parts, [note]


def decode(data: bytes) -> tuple[str, list[Finding]]:
    """Text from bytes, never failing: invalid UTF-8 is replaced and reported."""
    try:
        text = data.decode("utf-8")
        notes: list[Finding] = []
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        notes = [
            _about_whole(
                "content.invalid_utf8",
                text,
                f"invalid UTF-8 from byte {exc.start}; decoded with replacement",
            )
        ]
    sample = data[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and (b"\x00" in sample or controls / len(sample) > 0.1):
        notes.append(
            _about_whole(
                "content.binary", text, f"{controls} control bytes in the first {len(sample)}"
            )
        )
    return text, notes


def encodable(text: str) -> str:
    """``text`` with lone surrogates (from JSON's ``\\ud800``) as ``?``: same offsets, and
    scanners that encode to UTF-8 (RE2) read it instead of raising."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _about_whole(kind: str, text: str, detail: str) -> Finding:
    """A note on how the bytes were decoded: it spans the whole text and scores nothing."""
    return Finding(
        type=kind, start=0, end=len(text), score=0.0, scanner=BOUNDS_SCANNER, detail=detail
    )


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
        for position, (key, child) in enumerate(node.items()):
            if isinstance(key, str):  # named by position: a key may be the secret itself
                yield key_path(path, position), key, depth
            yield f"{path}.{key}", child, depth
    else:
        for index, child in enumerate(node):
            yield f"{path}[{index}]", child, depth


def key_path(path: str, position: int) -> str:
    """The path of the key at ``position`` of the mapping at ``path`` (``$.headers.<key:0>``)."""
    return f"{path}.<key:{position}>"


def _cut(path: str, detail: str) -> Finding:
    return Finding(
        type=TRUNCATED,
        start=0,
        end=0,
        score=1.0,
        scanner=BOUNDS_SCANNER,
        detail=detail,
        path=path,
    )
