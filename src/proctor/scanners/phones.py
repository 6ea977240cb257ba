"""Phone numbers: a loose candidate pattern, cheap shape checks, then ``phonenumbers`` decides.

``phonenumbers`` parsing and validation cost tens of microseconds per call, and
tool outputs are full of digit groups (dates, amounts, ids), so a candidate
reaches the library only when its digit count is one a number of that kind can
have: 7-15 digits in international form (E.164), or a national length of one
of the ``regions`` (with or without its trunk prefix). A national number is
read in each region in turn (the first where it is valid wins). An extension
(``x4587``, ``ext. 12``) belongs to the number. Dotted groups shaped like an
IPv4 address or a version string, groups opening with a calendar date, and
digits grouped in thousands (``912 345 678`` of an amount) are not numbers in
national form unless ``possible`` context says so.

``PhoneMatch.valid`` is False for a number that is possible (its length fits a
region) but not valid there: the caller reports it only near a phone word, at a
lower score, so a policy can choose by ``min_score``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneMetadata

DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "AU", "IN", "CA", "BR", "JP")
# Between groups: one separator, or a short run of spaces ("+44 20  7946 0958").
_SEP = r"(?:[ .-]|[ \t]{1,3}|\u00a0)?"
_EXTENSION = r"(?:[ \t]*(?:x|ext\.?|extn?\.?|extension|#)[ \t]*\d{1,6}(?![\w]))?"
# International form (+ or 00, country code, then groups of any size, "(0)" allowed, as
# "+33 1 48 66 28 48" or "+44 (0)20 7946 0958" are written), else national form.
CANDIDATE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?P<intl>(?:\+|00)\d{{1,3}}(?:{_SEP}\(?\d{{1,5}}\)?){{1,7}})"
    rf"|(?P<national>\(?\d{{1,5}}\)?(?:{_SEP}\(?\d{{1,5}}\)?){{0,5}})"
    rf"){_EXTENSION}(?![\w])"
)
NON_DIGITS = re.compile(r"\D")
EXTENSION_TAIL = re.compile(rf"{_EXTENSION}$")
DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# A candidate opening with a calendar date ("2024-05-19 11" of "2024-05-19 11:00", which
# reads as a valid US number) is a timestamp, not a phone number.
DATE_FIRST = re.compile(
    r"(?:19|20)\d\d([-./ ])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\d)"
    r"|(?:0?[1-9]|[12]\d|3[01])([-./ ])(?:0?[1-9]|1[0-2])\2(?:19|20)\d\d(?!\d)"
    r"|(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"
)
# Thousands ("1 234 567", "912.345.678"): an amount, unless it opens with a trunk 0.
THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:([ .,])\d{3})(?:\1\d{3})+")
# The US SSN layout (ddd-dd-dddd) is no country's phone layout.
SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
# A decimal amount ("31001.79", "4500,12"): never a national number.
DECIMAL = re.compile(r"\d+[.,]\d{1,2}")
GROUP_TAIL = re.compile(r"[ .\t\u00a0-]*\(?\d+\)?$")
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
    valid: bool = True


class PhoneFinder:
    """Phone numbers in a text; national-form numbers are read in each of ``regions``."""

    def __init__(self, regions: str | Sequence[str] = DEFAULT_REGIONS) -> None:
        self.regions = (regions,) if isinstance(regions, str) else tuple(regions)
        lengths = {region: _national_lengths(region) for region in self.regions}
        self.national_lengths = frozenset().union(*lengths.values())
        # digit count -> the regions whose national numbers can have it, in order: a
        # candidate is parsed only in those (each parse costs tens of microseconds)
        self._regions_for = {
            n: tuple(r for r in self.regions if n in lengths[r]) for n in self.national_lengths
        }

    def find(self, text: str, start: int = 0, stop: int | None = None) -> list[PhoneMatch]:
        """Valid and possible numbers in ``text[start:stop]`` (edges see the text around)."""
        out = []
        for match in CANDIDATE.finditer(text, start, len(text) if stop is None else stop):
            raw = match.group()
            if match.group("intl") is not None:
                found = self._international(raw, match.start())
            else:
                found = self._national(raw, match.start(), len(match.group("national")))
            if found is not None:
                out.append(found)
        return out

    def _international(self, raw: str, start: int) -> PhoneMatch | None:
        number = _without_extension(raw)
        possible = None
        for _ in range(TRIMS + 1):
            digits = len(NON_DIGITS.sub("", number)) - (2 if number.startswith("00") else 0)
            if digits < 7:
                break
            if digits <= 15:
                region, valid = _region("+" + raw[2:] if raw.startswith("00") else raw, None)
                if region is not None and valid:
                    return PhoneMatch(start, start + len(raw), region, True, True)
                if region is not None and possible is None:
                    possible = PhoneMatch(start, start + len(raw), region, True, True, False)
            trimmed = GROUP_TAIL.sub("", number)
            if trimmed == number:
                break
            number = raw = trimmed  # an extension goes with the last group
        return possible

    def _national(self, raw: str, start: int, number_length: int) -> PhoneMatch | None:
        number = raw[:number_length]
        regions = self._regions_for.get(len(NON_DIGITS.sub("", number)))
        if regions is None:
            return None
        if DOTTED_QUAD.fullmatch(number) or DATE_FIRST.match(number):
            return None  # an IPv4 address, a version, a date
        if THOUSANDS.fullmatch(number) or DECIMAL.fullmatch(number):
            return None  # an amount
        if SSN_SHAPE.fullmatch(number):
            return None
        possible = None
        for region in regions:
            found, valid = _region(raw, region)
            if found is None:
                continue
            if valid:
                return PhoneMatch(start, start + len(raw), found, False, not number.isdigit())
            if possible is None:
                possible = PhoneMatch(
                    start, start + len(raw), found, False, not number.isdigit(), False
                )
        return possible


def _without_extension(raw: str) -> str:
    match = EXTENSION_TAIL.search(raw)
    return raw[: match.start()] if match is not None and match.group() else raw


def _region(candidate: str, default_region: str | None) -> tuple[str | None, bool]:
    """The number's region and whether it is valid there; ``(None, False)`` if not possible."""
    try:
        number = phonenumbers.parse(candidate, default_region)
    except phonenumbers.NumberParseException:
        return None, False
    region = phonenumbers.region_code_for_number(number)  # is_valid_number, without a 2nd lookup
    if region is not None and phonenumbers.is_valid_number_for_region(number, region):
        name = "unknown" if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY else region
        return name, True
    if phonenumbers.is_possible_number(number):
        return region or phonenumbers.region_code_for_country_code(number.country_code or 0), False
    return None, False


def _national_lengths(region: str) -> frozenset[int]:
    """Digit counts a national-form number of ``region`` can have, with or without its prefix."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return frozenset(range(7, 16))
    lengths = set(metadata.general_desc.possible_length or range(7, 16))
    prefix = metadata.national_prefix or ""
    lengths |= {n + len(prefix) for n in lengths}
    return frozenset(n for n in lengths if 7 <= n <= 15)
