"""Payment data: card numbers (Luhn, ISO/IEC 7812-1 annex B, and a known issuer range) and
IBANs (the ISO 13616 mod-97 check and the country tables of ``python-stdnum``)."""

from __future__ import annotations

import re

import re2
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.iso7064 import mod_97_10

from proctor.scanners.context import ContextWords
from proctor.scanners.findings import Finding
from proctor.scanners.pii.finding import pii_finding

# The whole digit run, separators (space, dash, dot) included, must be the card: twelve
# to nineteen digits cut out of a longer run (a 22-digit USPS tracking number) are not a
# card. An expiry date right after it ("4111 1111 1111 1111 12/29") does not lengthen it.
CARD = re.compile(r"(?<![\d.-])(?<!\d[ .-])\d(?:[ .-]?\d){11,18}(?![\d/]|[ .-](?!\d\d?/)\d)")
# Upper or lower case (banks read both; mixed case is a token, not an IBAN), grouped by
# spaces or dashes
# On RE2 over UTF-8 bytes: a backtracking engine tries the pattern at every letter of the
# prose (a tenth of a millisecond per 2 KB), and RE2 given text converts every offset
IBAN = re2.compile(
    rb"\b(?:[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}|[a-z]{2}\d{2}(?:[ -]?[a-z0-9]){11,30})\b"
)
CARD_CONTEXT = ContextWords(
    ("card", "visa", "mastercard", "amex", "credit", "debit", "cc", "pan"),
    ("order", "tracking", "invoice", "isbn", "serial"),
)
IBAN_CONTEXT = ContextWords(("iban", "account", "bank", "transfer", "pay"))

# Issuer ranges (IIN prefixes) and lengths of the major networks.
ISSUERS: tuple[tuple[str, tuple[tuple[int, int], ...], frozenset[int]], ...] = (
    ("amex", ((34, 34), (37, 37)), frozenset({15})),
    ("visa", ((4, 4),), frozenset({13, 16, 19})),
    ("mastercard", ((51, 55), (2221, 2720)), frozenset({16})),
    ("discover", ((6011, 6011), (644, 649), (65, 65)), frozenset({16, 17, 18, 19})),
    ("jcb", ((3528, 3589),), frozenset({16, 17, 18, 19})),
    ("jcb", ((1800, 1800), (2131, 2131)), frozenset({15})),
    ("diners", ((300, 305), (36, 36), (38, 39)), frozenset({14, 15, 16, 17, 18, 19})),
    ("unionpay", ((62, 62),), frozenset({16, 17, 18, 19})),
    (
        "maestro",
        ((50, 50), (56, 58), (6304, 6304), (6390, 6390), (67, 67)),
        frozenset(range(12, 20)),
    ),
)


def card_issuer(digits: str) -> str | None:
    """The network whose IIN range and length match ``digits``, else ``None``."""
    for network, ranges, lengths in ISSUERS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if low <= int(digits[:width]) <= high:
                return network
    return None


def cards(text: str, lowered: str, start: int, stop: int) -> list[Finding]:
    out = []
    for match in CARD.finditer(text, start, stop):
        raw = match.group()
        digits = raw.replace(" ", "").replace("-", "").replace(".", "")
        if not luhn.is_valid(digits):
            continue
        network = card_issuer(digits)
        if network is None:
            continue
        reason = f"luhn-valid {network} number"
        out.append(
            pii_finding("pii.payment_card", match.span(), reason, 0.85, CARD_CONTEXT, lowered)
        )
    return out


def ibans(text: str, lowered: str) -> list[Finding]:
    out = []
    for start, raw in _iban_candidates(text):
        for _ in range(3):  # a word after a grouped IBAN (`... 00 and`) is let go of
            if _valid_iban(raw):
                span = (start, start + len(raw))
                reason = f"iban with valid mod-97 checksum, country {raw[:2].upper()}"
                out.append(pii_finding("pii.iban", span, reason, 0.9, IBAN_CONTEXT, lowered))
                break
            cut = max(raw.rfind(" "), raw.rfind("-"))
            if cut < 15:
                break
            raw = raw[:cut]
    return out


def _iban_candidates(text: str) -> list[tuple[int, str]]:
    """``(offset, text)`` of each IBAN-shaped run: ASCII, so as long in characters as in bytes."""
    data = text.encode("utf-8")
    ascii_text = len(data) == len(text)
    out = []
    for match in IBAN.finditer(data):
        start = match.start() if ascii_text else len(data[: match.start()].decode("utf-8"))
        out.append((start, match.group().decode("ascii")))
    return out


def _valid_iban(raw: str) -> bool:
    compact = raw.replace(" ", "").replace("-", "").upper()
    # the mod-97 checksum alone (``stdnum``'s first check) weeds out look-alikes before
    # the country tables are looked up
    return mod_97_10.is_valid(compact[4:] + compact[:4]) and stdnum_iban.is_valid(compact)
