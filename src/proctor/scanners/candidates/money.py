"""Money: IBANs (ISO 13616), amounts with or without a currency, and account numbers."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from proctor.scanners.candidates.values import (
    ACCOUNT,
    AMOUNT,
    DATE,
    IBAN,
    CandidateValue,
    Found,
)

_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?"
    r"|(?:-[A-Z0-9]{4}){2,7}(?:-[A-Z0-9]{1,4})?)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CODES = "usd|eur|gbp|chf|jpy|cad|aud|inr|cny|sek|nok|dkk|pln"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,8})?|\d{1,18}(?:\.\d{1,8})?"
# A number run, found by its first digit (a fast scan); sign, code or unit are read around it.
_NUMBER_RUN = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NUMBER_SHAPE = re.compile(_NUMBER)
_CURRENCY_BEFORE = re.compile(rf"(?:^|[^\w])(?:{_CODES}) ?$|[$€£¥₹] ?$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(rf" ?(?:[$€£¥₹]|(?:{_CODES}|dollars?|euros?)(?!\w))", re.IGNORECASE)
_SIGNS = frozenset("$€£¥₹")
_MONEY_SHAPE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d+\.\d{2}")
_ACCOUNT = re.compile(r"(?<![\w.,/+-])\+?\d(?:[ -]?\d){5,33}(?![\w/-]|[.,]\d)")


def ibans(text: str, found: Found, start: int, end: int) -> None:
    for match in _IBAN.finditer(text, start, end):
        raw = match.group().upper().replace("-", " ")  # grouped by dashes: as by spaces
        value = _iban_value(raw)
        if value is not None:
            found.take(match.start(), match.start() + value[1], CandidateValue(IBAN, value[0]))


def _iban_value(raw: str) -> tuple[str, int] | None:
    """The compact IBAN and the length of ``raw`` it spans.

    IBANs passing the ISO 13616 mod-97 check count; so do IBAN-shaped values of
    mostly digits that fail it (test and fictitious IBANs such as
    ``US133000000121212121212``). A grouped IBAN followed by a word
    (`DE89 3704 ... 00 AND`) loses trailing groups until valid.
    """
    if " " not in raw:
        if iban_checksum_valid(raw) or sum(ch.isdigit() for ch in raw[4:]) >= 10:
            return raw, len(raw)
        return None
    candidate = raw
    for _ in range(3):
        compact = candidate.replace(" ", "")
        if len(compact) >= 15 and iban_checksum_valid(compact):
            return compact, len(candidate)
        candidate = candidate.rsplit(" ", 1)[0]
    groups = raw.split(" ")
    while groups and not any(ch.isdigit() for ch in groups[-1]):
        groups.pop()  # a word after the number
    compact = "".join(groups)
    if len(compact) >= 15 and sum(ch.isdigit() for ch in compact[4:]) >= 10:
        return compact, len(" ".join(groups))
    return None


_LETTER_DIGITS = str.maketrans({chr(code): str(code - 55) for code in range(65, 91)})


@lru_cache(maxsize=4096)
def iban_checksum_valid(compact: str) -> bool:
    """ISO 13616 / ISO 7064 mod 97-10: the rearranged IBAN, letters as 10-35, is 1 mod 97."""
    if not 15 <= len(compact) <= 34 or not compact.isalnum() or not compact.isascii():
        return False
    return int((compact[4:] + compact[:4]).upper().translate(_LETTER_DIGITS)) % 97 == 1


def amounts(text: str, found: Found, start: int, end: int) -> None:
    """Numbers with a currency sign, code or word, or written like money (`1,200`, `3.50`)."""
    for match in _NUMBER_RUN.finditer(text, start, end):
        first, last = match.span()
        if first > 0 and (text[first - 1].isalnum() or text[first - 1] in "_.,"):
            continue  # inside a word or another number
        number = match.group().rstrip(",")
        last = first + len(number)
        money_shape = ("," in number or "." in number) and _MONEY_SHAPE.fullmatch(number)
        if not money_shape and not _may_have_currency(text, first, last):
            continue  # most numbers (ids, counts, dates) stop here, before any regex
        if not _NUMBER_SHAPE.fullmatch(number) or _number_continues(text, last, end):
            continue  # `1,2,3`, `1.2.3`, `192.168.1.10`, `12ab`
        before = _CURRENCY_BEFORE.search(text, max(0, first - 5), first)
        after = _CURRENCY_AFTER.match(text, last)  # `5 dollars`: the unit may follow the span
        if before is None and after is None and not money_shape:
            continue
        span_end = after.end() if after is not None else last
        value = normalise_amount(number)
        if value is not None and found.free(first, span_end):
            found.take(first, span_end, CandidateValue(AMOUNT, value))


def _may_have_currency(text: str, first: int, last: int) -> bool:
    """A sign or a letter next to the number, or one space away: `$5`, `EUR 5`, `5 dollars`."""
    before = text[max(0, first - 2) : first]
    after = text[last : last + 2]
    return any(ch in _SIGNS or ch.isalpha() for ch in before + after)


def _number_continues(text: str, index: int, end: int) -> bool:
    if index >= end:
        return False
    following = text[index]
    if following.isalnum() or following == "_":
        return True
    return following in ".," and index + 1 < end and text[index + 1].isdigit()


def normalise_amount(number: str | int | float) -> str | None:
    """A money-like number as a plain decimal string: ``"1,200.00"`` -> ``"1200"``."""
    if isinstance(number, float):
        if not math.isfinite(number):
            return None
        number = repr(number)
    try:
        amount = abs(Decimal(str(number).replace(",", "")))
    except InvalidOperation:
        return None
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


def accounts(text: str, found: Found, start: int, end: int) -> None:
    for match in _ACCOUNT.finditer(text, start, end):
        raw = match.group()
        if DATE.match(raw) or not found.free(match.start(), match.end()):
            continue
        digits = "".join(ch for ch in raw if ch.isdigit())
        found.take(match.start(), match.end(), CandidateValue(ACCOUNT, digits))


# Names of number fields that hold money: a whole number counts as an amount only under one.
_MONEY_KEY = re.compile(
    r"amount|price|total|cost|fee|sum|value|balance|pay|refund|spend|budget|salary|rent|charge",
    re.IGNORECASE,
)


def number_values(number: int | float, key: str = "") -> frozenset[CandidateValue]:
    """The candidates of a number: a fraction is an amount; a whole number is one when
    its field is named like money (`amount`, `total_price`), not a count (`n`, `limit`);
    a whole number of 6+ digits may be an account too."""
    values: set[CandidateValue] = set()
    if isinstance(number, float) or _MONEY_KEY.search(key):
        amount = normalise_amount(number)
        if amount is not None:
            values.add(CandidateValue(AMOUNT, amount))
    if isinstance(number, int) and abs(number) >= 100_000:
        values.add(CandidateValue(ACCOUNT, str(abs(number))))
    return frozenset(values)
