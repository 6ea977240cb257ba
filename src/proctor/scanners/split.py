"""Values split over the items of a list: ``["AKIAIOSF", "ODNN7EXAMPLE"]``, ``list("ghp_...")``.

Each string of an argument tree is scanned alone, so a key, a card number or an
address cut into list items is in none of them whole, yet a tool that joins
the items (or a person reading them) has it whole. A run of consecutive short
strings of one list is also scanned joined, for secrets and personal data (and
for injections when the items are single characters: a text spelled out); a
finding that crosses items is reported on each item it covers, so a redaction
masks every piece. A finding inside one item was found by that item's scan;
one over an item with a finding of its own, or personal data made of items
that are bare numbers, is what joining made up, and is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence

from proctor.scanners.findings import Finding

SHORT_ITEM = 64  # characters: longer items are texts of their own, not pieces of a value
SPELLED_OUT = 2  # items this short spell a text out
JOINED = ("pii", "secret")
_ITEM = re.compile(r"(.*)\[(\d+)\]")


def list_runs(texts: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """Runs of two or more consecutive short strings of one list, from ``strings_in``'s
    ``(path, text)`` pairs (a list item's path is ``<list>[<index>]``)."""
    run: list[tuple[str, str]] = []
    last: tuple[str, int] | None = None
    for path, text in texts:
        item = _ITEM.fullmatch(path) if len(text) < SHORT_ITEM else None
        here = (item.group(1), int(item.group(2))) if item is not None else None
        if here is not None and last is not None and here == (last[0], last[1] + 1):
            run.append((path, text))
        else:
            if len(run) > 1:
                yield run
            run = [(path, text)] if here is not None else []
        last = here
    if len(run) > 1:
        yield run


def joined_types(
    items: Sequence[tuple[str, str]], wanted: Collection[str] | None
) -> tuple[str, ...]:
    """The finding types to look for in ``items`` joined, of those ``wanted`` (None: all)."""
    families: tuple[str, ...] = JOINED
    if all(len(text) <= SPELLED_OUT for _, text in items):
        families += ("injection",)
    if wanted is None:
        return families
    return tuple(w for w in wanted if w.split(".", 1)[0] in families)


def across_items(
    found: Sequence[Finding],
    items: Sequence[tuple[str, str]],
    wanted: Collection[str],
    found_at: Collection[str | None],
) -> list[Finding]:
    """The findings of ``items`` joined, of the ``wanted`` types, that cross from one item
    into another, as pieces on each item they cover.

    Notes on the scan itself are left to the items' own scans, and so is a finding over
    an item that holds one of its own (at a path of ``found_at``): joined, two addresses
    or two IP addresses run together into a number or an address that is in neither.
    """
    bounds = []
    offset = 0
    digits = set()  # items that are a number alone: a list of them is a list of numbers
    for path, text in items:
        bounds.append((offset, offset + len(text), path))
        offset += len(text)
        if text.isdigit():
            digits.add(path)
    out: list[Finding] = []
    for finding in found:
        if not any(finding.type == w or finding.type.startswith(w + ".") for w in wanted):
            continue
        pieces = [
            (max(finding.start, low) - low, min(finding.end, high) - low, path)
            for low, high, path in bounds
            if finding.start < high and low < finding.end
        ]
        if len(pieces) < 2 or any(path in found_at for _, _, path in pieces):
            continue  # inside one item (its own scan found it), or over a value of its own
        if finding.type.startswith("pii.") and all(path in digits for _, _, path in pieces):
            continue  # `["4000", "4001", ...]` joined is a card number one time in ten
        detail = f"{finding.detail}; split across list items"
        out.extend(
            Finding(finding.type, start, end, finding.score, finding.scanner, detail, path)
            for start, end, path in pieces
        )
    return out
