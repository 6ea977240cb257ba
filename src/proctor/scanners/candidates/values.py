"""A candidate value, the kinds there are, and the bookkeeping every recogniser shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL, URL, DOMAIN, IBAN, ACCOUNT, PHONE_KIND, PATH, AMOUNT = (
    "email",
    "url",
    "domain",
    "iban",
    "account",
    "phone",
    "path",
    "amount",
)
KINDS = (EMAIL, URL, DOMAIN, IBAN, ACCOUNT, PHONE_KIND, PATH, AMOUNT)
MAX_TEXT_CHARS = 128 * 1024  # longer texts are read in parts of this size, overlapping
MAX_READ_CHARS = 8 * 1024 * 1024  # a text is read whole up to this (as scanning reads it)
PART_OVERLAP = 4 * 1024  # a value across two parts is whole in one of them
MAX_CANDIDATES = 1_000  # per text
MAX_DEPTH = 32  # of an argument tree
MAX_NODES = 10_000  # values visited in one argument tree
TRAILING = ".,;:!?'\")]}*>"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}")


@dataclass(frozen=True, slots=True, order=True)
class CandidateValue:
    """One normalised value of one kind: ``CandidateValue("email", "mark@example.com")``."""

    kind: str
    value: str


class Found:
    """Values found so far and the spans they took, so later recognisers skip them."""

    __slots__ = ("_taken", "full", "values")

    def __init__(self, text: str) -> None:
        self.values: set[CandidateValue] = set()
        self._taken = bytearray(len(text))
        self.full = False

    def free(self, start: int, end: int) -> bool:
        return self._taken.find(1, start, end) == -1

    def take(self, start: int, end: int, *values: CandidateValue) -> None:
        self._taken[start:end] = b"\x01" * (end - start)
        for value in values:
            if len(self.values) >= MAX_CANDIDATES:
                self.full = True
                return
            self.values.add(value)


def read_back(text: str, index: int, floor: int, allowed: frozenset[str]) -> int | None:
    """Where the run of ``allowed`` characters ending at ``index`` starts; None when it
    continues into a word, an email or a path (`a/b.txt` is a path, not a name)."""
    limit = max(floor, index - 253)
    while index > limit and text[index - 1] in allowed:
        index -= 1
    if index > 0:
        before = text[index - 1]
        if before.isalnum() or before in "_@/\\:.-":
            return None
    return index
