"""Reading a text, or every string and number of an argument tree, for candidate values.

Only the words holding a hint are read (``_windows``); there the recognisers
of each family run in priority order, and a span taken by one is not read by
a later one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from proctor.scanners.candidates.contacts import emails, phones
from proctor.scanners.candidates.money import accounts, amounts, ibans, number_values
from proctor.scanners.candidates.paths import file_names, unix_paths, windows_paths
from proctor.scanners.candidates.values import (
    MAX_CANDIDATES,
    MAX_DEPTH,
    MAX_NODES,
    MAX_READ_CHARS,
    MAX_TEXT_CHARS,
    PART_OVERLAP,
    TRAILING,
    CandidateValue,
    Found,
)
from proctor.scanners.candidates.web import domains, urls
from proctor.scanners.readings import fold


def extract_values(text: str) -> frozenset[CandidateValue]:
    """The candidate values in ``text``, normalised.

    Non-ASCII text is read folded (``readings.fold``: zero-width and bidi characters
    dropped, full-width forms folded, as IDNA maps a host name), so an address copied
    with hidden characters in it is the address it shows. Look-alikes are kept: a
    Cyrillic `exаmple.com` is another host than the `example.com` a user named.
    """
    if not text.isascii():
        folded = fold(text, look_alikes=False)
        if folded is not None:
            text = folded.text
    if len(text) <= 256:
        return _extract_short(text)
    return _extract(text)


@lru_cache(maxsize=8192)
def _extract_short(text: str) -> frozenset[CandidateValue]:
    # Arguments repeat (the same recipient, the same account): cache the short ones.
    return _extract(text)


def _extract(text: str) -> frozenset[CandidateValue]:
    if len(text) > MAX_TEXT_CHARS:
        return _extract_parts(text)
    windows = _windows(text)
    if not windows:
        return frozenset()
    found = Found(text)
    for start, end in windows:
        window = text[start:end]
        for wanted, recogniser in _RECOGNISERS:
            if wanted(window):
                recogniser(text, found, start, end)
        if found.full:
            break
    return frozenset(found.values)


def _extract_parts(text: str) -> frozenset[CandidateValue]:
    """A long text read whole, part by part (overlapping), up to ``MAX_READ_CHARS``: an
    attacker's value in the middle of a long tool output is remembered like one at its
    start. A value across a border is whole in one part; a union keeps it once."""
    values: set[CandidateValue] = set()
    step = MAX_TEXT_CHARS - PART_OVERLAP
    for start in range(0, min(len(text), MAX_READ_CHARS), step):
        values |= _extract(text[start : start + MAX_TEXT_CHARS])
        if len(values) >= MAX_CANDIDATES:
            break
    return frozenset(values)


# Every kind holds one of these characters; a `.` followed only by punctuation is the
# end of a sentence, not a hint (`report.pdf` and `./run.sh` are).
_HINT = re.compile(r"[\d@/\\$€£¥₹.]\S*")
_DIGIT = re.compile(r"\d")
_MERGE_GAP = 16  # windows this close are read as one: fewer, longer scans


def _windows(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` worth reading: each word holding a hint, merged when close.

    The recognisers run on these spans only, so prose costs one C-level scan.
    A span starts where its word starts and ends at whitespace; patterns still
    see the characters before a span (lookbehind reads the whole text), and
    words close together (`DE89 3704 …`, `+1 (202) 555-0143`) share a span.
    """
    spans: list[tuple[int, int]] = []
    for match in _HINT.finditer(text):
        run = match.group()
        if run[0] == "." and not run.strip(TRAILING):
            continue  # the end of a sentence
        hit = match.start()
        if spans and spans[-1][1] + _MERGE_GAP >= hit:
            spans[-1] = (spans[-1][0], match.end())
            continue
        floor = max(0, hit - 256)
        start = max(
            floor,
            text.rfind(" ", floor, hit) + 1,
            text.rfind("\n", floor, hit) + 1,
            text.rfind("\t", floor, hit) + 1,
        )
        spans.append((start, match.end()))
    return spans


def _has_digit(window: str) -> bool:
    return _DIGIT.search(window) is not None


def _has_url(window: str) -> bool:
    return "://" in window or "www." in window or "WWW." in window


# Priority order: a span taken by an earlier recogniser is not read by a later one.
# Each runs only on windows holding what its kind needs.
_Recogniser = Callable[[str, Found, int, int], None]
_RECOGNISERS: tuple[tuple[Callable[[str], bool], _Recogniser], ...] = (
    (_has_url, urls),  # first: `https://user@host/` is a URL, not an email
    (lambda window: "@" in window, emails),
    (_has_digit, ibans),
    (_has_digit, amounts),
    (_has_digit, phones),
    (_has_digit, accounts),
    (lambda window: "/" in window, unix_paths),
    (lambda window: ":\\" in window or ":/" in window, windows_paths),
    (lambda window: "." in window, file_names),
    (lambda window: "." in window, domains),
)


def values_in(tree: Any) -> dict[str, frozenset[CandidateValue]]:
    """Argument path (``recipient``, ``items[0].iban``) -> the candidate values at it.

    Strings are read for candidates; numbers count as ``number_values`` says,
    by the name of the field holding them. Paths without candidates are left
    out; a string at the top has the path ``""``.
    """
    out: dict[str, frozenset[CandidateValue]] = {}
    for path, key, leaf in _leaves(tree):
        values = _leaf_values(leaf, key)
        if values:
            out[path] = values
    return out


def all_values(tree: Any) -> set[CandidateValue]:
    """Every candidate value anywhere in ``tree``."""
    found: set[CandidateValue] = set()
    for _, key, leaf in _leaves(tree, with_paths=False):
        found |= _leaf_values(leaf, key)
    return found


def _leaf_values(leaf: Any, key: str) -> frozenset[CandidateValue]:
    if isinstance(leaf, str):
        return extract_values(leaf)
    if isinstance(leaf, bool):
        return frozenset()
    if isinstance(leaf, int | float):
        return number_values(leaf, key)
    return frozenset()


def _leaves(tree: Any, *, with_paths: bool = True) -> Iterator[tuple[str, str, Any]]:
    """``(path, field name, leaf)`` for every string and number, walked iteratively and
    bounded; a list item has the field name of its list."""
    stack: list[tuple[str, str, Any, int]] = [("", "", tree, 0)]
    # the root is not counted, as argument bounds count (``MAX_ITEMS`` in model.arguments):
    # a call's arguments within them are walked whole, so no value in them passes unseen
    visited = -1
    while stack:
        path, key, node, depth = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            return
        if isinstance(node, str | int | float):
            yield path, key, node
        elif isinstance(node, bytes | bytearray):
            text = bytes(node[: MAX_TEXT_CHARS * 4]).decode("utf-8", errors="replace")
            yield path, key, text
        elif isinstance(node, Mapping | list | tuple) and depth < MAX_DEPTH:
            children: list[tuple[str, str, Any, int]] = []
            if isinstance(node, Mapping):
                for name, child in node.items():
                    step = _key_step(name, path) if with_paths else ""
                    children.append((step, str(name), child, depth + 1))
            else:
                for index, child in enumerate(node):
                    step = f"{path}[{index}]" if with_paths else ""
                    children.append((step, key, child, depth + 1))
            stack.extend(reversed(children))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _key_step(key: Any, path: str) -> str:
    """``path`` and ``key`` as a condition spells it: ``a.b``, ``a["b-c"]``, ``a[0]``."""
    key = str(key)
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'
