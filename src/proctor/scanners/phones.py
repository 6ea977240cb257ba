"""Phone numbers: a loose candidate pattern, cheap shape checks, then ``phonenumbers`` decides.

``phonenumbers`` parsing and validation cost tens of microseconds per call, and
tool outputs are full of digit groups (dates, amounts, ids), so a candidate
reaches the library only when its digit count is one a number of that kind can
have: 7-15 digits in international form (E.164), or the default region's
national lengths (with or without its trunk prefix). Dotted groups shaped like
an IPv4 address or a version string, and groups opening with a calendar date, are
never phone numbers in national form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneMetadata

# International form (+ or 00, country code, then groups of any size, as "+33 1 48 66 28 48"
# is written), else national form (groups of two to five digits after the first).
CANDIDATE = re.compile(
    r"(?<![\w+])(?:"
    r"(?P<intl>(?:\+|00)\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,7})"
    r"|\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,5}\)?){1,5}"
    r")(?![\w])"
)
NON_DIGITS = re.compile(r"\D")
DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# A candidate opening with a calendar date ("2024-05-19 11" of "2024-05-19 11:00", which
# reads as a valid US number) is a timestamp, not a phone number.
DATE_FIRST = re.compile(
    r"(?:19|20)\d\d([-.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\d)"
    r"|(?:0?[1-9]|[12]\d|3[01])([-.])(?:0?[1-9]|1[0-2])\2(?:19|20)\d\d(?!\d)"
)
GROUP_TAIL = re.compile(r"[ .-]?\(?\d+\)?$")
# An over-long international candidate ("+33 1 48 66 28 48 2024") is retried without
# its last groups this many times.
TRIMS = 2


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    start: int
    end: int
    region: str
    international: bool
    grouped: bool


class PhoneFinder:
    """Valid phone numbers in a text; national-form numbers are read in ``default_region``."""

    def __init__(self, default_region: str = "US") -> None:
        self.default_region = default_region
        self.national_lengths = _national_lengths(default_region)

    def find(self, text: str, start: int = 0, stop: int | None = None) -> list[PhoneMatch]:
        """Valid numbers in ``text[start:stop]`` (the text around it still counts for edges)."""
        out = []
        for match in CANDIDATE.finditer(text, start, len(text) if stop is None else stop):
            raw = match.group()
            if match.group("intl") is not None:
                found = self._international(raw, match.start())
            else:
                found = self._national(raw, match.start())
            if found is not None:
                out.append(found)
        return out

    def _international(self, raw: str, start: int) -> PhoneMatch | None:
        for _ in range(TRIMS + 1):
            digits = len(NON_DIGITS.sub("", raw)) - (2 if raw.startswith("00") else 0)
            if digits < 7:
                return None
            if digits <= 15:
                candidate = "+" + raw[2:] if raw.startswith("00") else raw
                region = _valid_region(candidate, None)
                if region is not None:
                    return PhoneMatch(start, start + len(raw), region, True, True)
            trimmed = GROUP_TAIL.sub("", raw)
            if trimmed == raw:
                return None
            raw = trimmed
        return None

    def _national(self, raw: str, start: int) -> PhoneMatch | None:
        if len(NON_DIGITS.sub("", raw)) not in self.national_lengths:
            return None
        if DOTTED_QUAD.fullmatch(raw):
            return None  # an IPv4 address or a four-part version, not a phone number
        if DATE_FIRST.match(raw):
            return None
        region = _valid_region(raw, self.default_region)
        if region is None:
            return None
        return PhoneMatch(start, start + len(raw), region, False, not raw.isdigit())


def _valid_region(candidate: str, default_region: str | None) -> str | None:
    """The region of a valid number (``"unknown"`` for non-geographic ones), else ``None``."""
    try:
        number = phonenumbers.parse(candidate, default_region)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)  # is_valid_number, without a 2nd lookup
    if region is None or not phonenumbers.is_valid_number_for_region(number, region):
        return None
    return "unknown" if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY else region


def _national_lengths(region: str) -> frozenset[int]:
    """Digit counts a national-form number of ``region`` can have, with or without its prefix."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return frozenset(range(7, 16))
    lengths = set(metadata.general_desc.possible_length or range(7, 16))
    prefix = metadata.national_prefix or ""
    lengths |= {n + len(prefix) for n in lengths}
    return frozenset(n for n in lengths if 7 <= n <= 15)
