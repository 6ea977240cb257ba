"""Dates of birth: a date counts as one only next to a birth word."""

from __future__ import annotations

import re
from datetime import date

from proctor.scanners.context import ContextWords
from proctor.scanners.findings import Finding
from proctor.scanners.pii.finding import NAME

MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
DATE = re.compile(
    r"\b(?:(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    r"|(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})"
    rf"|(?P<d1>\d{{1,2}}) (?P<m1>{MONTHS}),? (?P<y1>\d{{4}})"
    rf"|(?P<m2>{MONTHS}) (?P<d2>\d{{1,2}}),? (?P<y2>\d{{4}}))\b",
    re.IGNORECASE,
)
MONTH_NUMBERS = {m[:3]: i for i, m in enumerate(MONTHS.replace("(?:", "").split("|"), 1)}
BIRTH = ContextWords(("born", "birth", "dob", "d.o.b", "birthday", "geboren", "né le"), window=40)
# Longer than any date DATE matches ("September 30, 1985"): the margin around the
# place a birth word allows a date, so DATE only runs there.
DATE_SPAN = 32


def dates_of_birth(text: str, lowered: str) -> list[Finding]:
    out = []
    for start, stop in _birth_windows(lowered):
        for match in DATE.finditer(text, start, stop):
            up, _ = BIRTH.near(lowered, match.start(), match.end())
            if up is None or _parse_date(match) is None:
                continue
            out.append(
                Finding(
                    "pii.date_of_birth",
                    match.start(),
                    match.end(),
                    0.8,
                    NAME,
                    f"date next to `{up}`",
                )
            )
    return out


def _birth_windows(lowered: str) -> list[tuple[int, int]]:
    """Where a date can be near enough to a birth word to count (merged, in text order)."""
    spans = []
    for word in BIRTH.raise_words:
        at = lowered.find(word)
        while at != -1:
            start = max(0, at - BIRTH.window // 2 - DATE_SPAN)
            spans.append((start, at + len(word) + BIRTH.window + DATE_SPAN))
            at = lowered.find(word, at + 1)
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def _parse_date(match: re.Match[str]) -> date | None:
    g = match.groupdict()
    try:
        if g["iy"]:
            year, month, day = int(g["iy"]), int(g["im"]), int(g["id"])
        elif g["y"]:
            year, first, second = int(g["y"]), int(g["a"]), int(g["b"])
            month, day = (first, second) if first <= 12 else (second, first)
        else:
            month_name = (g["m1"] or g["m2"]).lower()[:3]
            year, month = int(g["y1"] or g["y2"]), MONTH_NUMBERS[month_name]
            day = int(g["d1"] or g["d2"])
        if not 1900 <= year <= 2100:
            return None
        return date(year, month, day)
    except (ValueError, KeyError):
        return None
