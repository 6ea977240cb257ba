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

The short string values of consecutive keys of one mapping
(``{"a": "AKIAIOSF", "b": "ODNN7EXAMPLE"}``, two arguments) are joined the
same way, for secrets only: a secret's format (a prefix, a length, a
checksum) is rarely made up by two fields side by side, while a first and a
last name, a street and a number, or an area code and a number joined are
personal data that neither field holds, or none at all.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator, Sequence

from proctor.scanners.findings import Finding

SHORT_ITEM = 64  # characters: longer items are texts of their own, not pieces of a value
SPELLED_OUT = 2  # items this short spell a text out
JOINED = ("pii", "secret")
JOINED_VALUES = ("secret",)  # what the values of consecutive keys are joined to look for
PAIRED = 16  # values: a longer run is scanned joined whole only
_ITEM = re.compile(r"(.*)\[(\d+)\]")
_KEY = re.compile(r"(.*)\.<key:(\d+)>")


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


def value_runs(texts: Sequence[tuple[str, str]]) -> Iterator[list[list[tuple[str, str]]]]:
    """Runs of two or more short strings that are the values of consecutive keys of one
    mapping, each as the windows to scan joined: the run whole and, in a run of up to
    ``PAIRED``, each two neighbours (a short value just before or after a split key,
    ``{"id": "x", "a": "AKIAIOSF", ...}``, would glue onto it in the run joined, where
    a key's format needs a word boundary)."""
    for run in _value_runs(texts):
        pairs = [run[i : i + 2] for i in range(len(run) - 1)] if 2 < len(run) <= PAIRED else []
        yield [run, *pairs]


def _value_runs(texts: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """From ``strings_in``'s pairs: a key ``<map>.<key:<n>>`` comes just before its value
    ``<map>.<key>``; a value that is not a string has none, and breaks the run."""
    run: list[tuple[str, str]] = []
    last: tuple[str, int] | None = None
    for (key_at, key), (path, text) in itertools.pairwise(texts):
        named = _KEY.fullmatch(key_at)
        if named is None or path != f"{named.group(1)}.{key}":
            continue  # not a key followed by its string value
        here = (named.group(1), int(named.group(2)))
        if len(text) < SHORT_ITEM and run and last == (here[0], here[1] - 1):
            run.append((path, text))
        else:
            if len(run) > 1:
                yield run
            run = [(path, text)] if len(text) < SHORT_ITEM else []
        last = here
    if len(run) > 1:
        yield run


def joined_types(
    items: Sequence[tuple[str, str]],
    wanted: Collection[str] | None,
    families: tuple[str, ...] = JOINED,
) -> tuple[str, ...]:
    """The finding types to look for in ``items`` joined, of those ``wanted`` (None: all)
    and of ``families`` (injections too when list items spell a text out)."""
    if families == JOINED and all(len(text) <= SPELLED_OUT for _, text in items):
        families += ("injection",)
    if wanted is None:
        return families
    return tuple(w for w in wanted if w.split(".", 1)[0] in families)


def across_items(
    found: Sequence[Finding],
    items: Sequence[tuple[str, str]],
    wanted: Collection[str],
    found_at: Collection[str | None],
    noun: str = "list items",
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
        detail = f"{finding.detail}; split across {noun}"
        out.extend(
            Finding(finding.type, start, end, finding.score, finding.scanner, detail, path)
            for start, end, path in pieces
        )
    return out
