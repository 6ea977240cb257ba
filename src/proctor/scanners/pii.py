"""Personal data, validated rather than matched: a regex finds candidates, a validator decides.

Cards pass the Luhn check (ISO/IEC 7812-1 annex B) and a known issuer range; IBANs
pass the ISO 13616 mod-97 check (``python-stdnum``); US SSNs exclude the ranges
the SSA never issues (area 000, 666, 900-999; group 00; serial 0000); phone
numbers are parsed and validated by ``phonenumbers``; IP addresses by
``ipaddress``; dates count as dates of birth only next to birth words. National
ids are validated by ``python-stdnum``; the ones without a distinctive format
count only next to their name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.es import dni
from stdnum.fi import hetu
from stdnum.in_ import aadhaar
from stdnum.iso7064 import mod_97_10
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from proctor.scanners.context import ContextWords, join
from proctor.scanners.findings import Direction, Finding
from proctor.scanners.phones import CANDIDATE, PhoneFinder

NAME = "pii"

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b"
)
# The local part's characters just before an "@" (one more than a local part may hold)
LOCAL_PART_TAIL = re.compile(r"[A-Za-z0-9._%+-]{1,65}$")
# The whole digit run, separators included, must be the card: twelve to nineteen digits
# cut out of a longer run (a 22-digit USPS tracking number) are not a card. An expiry
# date right after it ("4111 1111 1111 1111 12/29") does not lengthen the run.
CARD = re.compile(r"(?<![\d-])(?<!\d[ -])\d(?:[ -]?\d){11,18}(?![\d/]|[ -](?!\d\d?/)\d)")
IBAN = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}\b")
SSN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
# A sentence may end right after the address ("at 94.49.183.166."); a fifth group may not.
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")  # found fast (starts with a literal)
# Runs of digits and the separators numbers are written with. Every numeric pattern
# below matches inside one run (or starts one character before it, at a "+" or "("),
# so each runs only on the runs with enough digits for it.
NUMBER_RUN = re.compile(r"\d[\d .()+-]*")
ASCII_DIGITS = str.maketrans("", "", "0123456789")
PHONE = CANDIDATE  # phone-number candidates, also read by the provenance value extractor
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

EMAIL_CONTEXT = ContextWords(("email", "e-mail", "mail", "contact"), ("example.com",))
PHONE_CONTEXT = ContextWords(
    ("phone", "tel", "call", "mobile", "cell", "fax", "whatsapp", "sms"),
    ("order", "invoice", "tracking", "ref", "id:", "#", "isbn", "version", "build"),
)
CARD_CONTEXT = ContextWords(
    ("card", "visa", "mastercard", "amex", "credit", "debit", "cc", "pan"),
    ("order", "tracking", "invoice", "isbn", "serial"),
)
IBAN_CONTEXT = ContextWords(("iban", "account", "bank", "transfer", "pay"))
SSN_CONTEXT = ContextWords(
    ("ssn", "social security", "ss#", "tax id", "taxpayer"),
    ("order", "invoice", "tracking", "phone", "tel"),
)
IP_CONTEXT = ContextWords(
    ("ip", "address", "host", "client", "from"), ("version", "release", "build", "firmware")
)

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


@dataclass(frozen=True, slots=True)
class NationalId:
    """A national id: its pattern, validator, name words, and where its pattern can match.

    ``digits`` is the fewest digits the number run where a match starts has (``None``:
    the id starts with letters and the whole text is searched); ``reach`` how many
    characters after that run the pattern may read (a check letter, a word boundary).
    """

    type: str
    pattern: re.Pattern[str]
    is_valid: Callable[[str], bool]
    context: ContextWords
    needs_context: bool
    score: float
    digits: int | None = None
    reach: int = 2


NATIONAL_IDS: tuple[NationalId, ...] = (
    NationalId(
        "pii.national_id.es_dni",
        re.compile(r"\d(?<!\w\d)\d{7}-?[A-Z]\b"),
        dni.is_valid,
        ContextWords(("dni", "nif", "documento")),
        False,
        0.7,
        digits=8,
        reach=3,
    ),
    NationalId(
        "pii.national_id.it_codice_fiscale",
        re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]{5}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b"),
        codicefiscale.is_valid,
        ContextWords(("codice fiscale", "cf")),
        False,
        0.85,
    ),
    NationalId(
        "pii.national_id.br_cpf",
        re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d])"),
        cpf.is_valid,
        ContextWords(("cpf",)),
        False,
        0.8,
        digits=11,
    ),
    NationalId(
        "pii.national_id.fi_hetu",
        re.compile(r"\d(?<!\w\d)\d{5}[-+A]\d{3}[0-9A-Y]\b"),
        hetu.is_valid,
        ContextWords(("hetu", "henkilötunnus", "personal identity")),
        False,
        0.75,
        digits=6,
        reach=7,
    ),
    NationalId(
        "pii.national_id.nl_bsn",
        re.compile(r"(?<![\d.-])\d{4}\.?\d{2}\.?\d{3}(?![\d])"),
        bsn.is_valid,
        ContextWords(("bsn", "burgerservicenummer")),
        True,
        0.75,
        digits=9,
    ),
    NationalId(
        "pii.national_id.ca_sin",
        re.compile(r"(?<![\d-])\d{3}[- ]?\d{3}[- ]?\d{3}(?![\d])"),
        sin.is_valid,
        ContextWords(("sin", "social insurance")),
        True,
        0.75,
        digits=9,
    ),
    NationalId(
        "pii.national_id.in_aadhaar",
        re.compile(r"(?<![\d])\d{4} ?\d{4} ?\d{4}(?![\d])"),
        aadhaar.is_valid,
        ContextWords(("aadhaar", "uidai")),
        True,
        0.75,
        digits=12,
    ),
)

# Types whose validation is strongest win overlaps against weaker ones (phone, ip); a
# national id confirmed by its name ("Aadhaar 5680 9250 5466") beats a card read in it.
PRIORITY = {"pii.payment_card": 0, "pii.iban": 0, "pii.ssn": 1, "pii.email": 1}
CONFIRMED_ID_PRIORITY = -1


class PiiScanner:
    """Emails, phone numbers, payment cards, IBANs, US SSNs, IPs, dates of birth, national ids."""

    name = NAME
    cost = 10
    types = frozenset({"pii"})

    def __init__(self, default_region: str = "US") -> None:
        self.default_region = default_region
        self._phones = PhoneFinder(default_region)

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        if not any(ch.isdigit() or ch == "@" or ch == ":" for ch in text):
            return []
        lowered = text.lower()
        found: list[Finding] = []
        if "@" in text:
            found.extend(_emails(text, lowered))
        found.extend(_ibans(text, lowered))
        if ":" in text:
            found.extend(_ipv6s(text, lowered))
        found.extend(_dates_of_birth(text, lowered))
        # National ids named nowhere in the text cannot be next to their name.
        ids = [
            spec
            for spec in NATIONAL_IDS
            if not spec.needs_context or any(w in lowered for w in spec.context.raise_words)
        ]
        confirmed: set[Finding] = set()
        for spec in ids:
            if spec.digits is None:
                found.extend(_national_ids(spec, text, lowered, 0, len(text), confirmed))
        for run in NUMBER_RUN.finditer(text):
            found.extend(self._in_run(run, text, lowered, ids, confirmed))
        return _without_overlaps(found, confirmed)

    def _in_run(
        self,
        run: re.Match[str],
        text: str,
        lowered: str,
        ids: Sequence[NationalId],
        confirmed: set[Finding],
    ) -> list[Finding]:
        """What the numeric patterns find in one number run (from the character before it)."""
        raw = run.group()
        digits = _digit_count(raw)
        if digits < 4:
            return []
        start, stop = max(0, run.start() - 1), run.end() + 2
        found: list[Finding] = []
        if digits >= 12:
            found.extend(_cards(text, lowered, start, stop))
        if digits >= 9:
            found.extend(_ssns(text, lowered, start, stop))
        if raw.count(".") >= 3:
            found.extend(_ipv4s(text, lowered, start, stop))
        if digits >= 7:
            found.extend(self._phone_findings(text, lowered, start, stop))
        for spec in ids:
            if spec.digits is not None and digits >= spec.digits:
                end = run.end() + spec.reach
                found.extend(_national_ids(spec, text, lowered, start, end, confirmed))
        return found

    def _phone_findings(self, text: str, lowered: str, start: int, stop: int) -> list[Finding]:
        out = []
        for phone in self._phones.find(text, start, stop):
            base = 0.65 if phone.international or phone.grouped else 0.45
            score, why = PHONE_CONTEXT.adjust(base, lowered, phone.start, phone.end)
            out.append(
                Finding(
                    "pii.phone",
                    phone.start,
                    phone.end,
                    score,
                    NAME,
                    join(f"valid phone number, region {phone.region}", why),
                )
            )
        return out


def email_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``EMAIL.finditer(text)`` yields, tried only where an "@" is.

    A match can start only where the run of local-part characters before its "@"
    starts (inside the run the look-behind fails), so each "@" has one start to try.
    """
    resume = 0  # matches do not overlap: none starts inside the previous one
    at = text.find("@")
    while at != -1:
        tail = LOCAL_PART_TAIL.search(text, max(0, at - 65), at)
        if tail is not None and at - tail.start() <= 64 and tail.start() >= resume:
            match = EMAIL.match(text, tail.start())
            if match is not None:
                yield match
                resume = match.end()
        at = text.find("@", at + 1)


def _emails(text: str, lowered: str) -> list[Finding]:
    out = []
    for match in email_matches(text):
        score, why = EMAIL_CONTEXT.adjust(0.85, lowered, match.start(), match.end())
        out.append(
            Finding(
                "pii.email", match.start(), match.end(), score, NAME, join("email address", why)
            )
        )
    return out


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


def _cards(text: str, lowered: str, start: int, stop: int) -> list[Finding]:
    out = []
    for match in CARD.finditer(text, start, stop):
        raw = match.group()
        digits = raw.replace(" ", "").replace("-", "")
        if not luhn.is_valid(digits):
            continue
        network = card_issuer(digits)
        if network is None:
            continue
        score, why = CARD_CONTEXT.adjust(0.85, lowered, match.start(), match.end())
        out.append(
            Finding(
                "pii.payment_card",
                match.start(),
                match.end(),
                score,
                NAME,
                join(f"luhn-valid {network} number", why),
            )
        )
    return out


def _ibans(text: str, lowered: str) -> list[Finding]:
    out = []
    for match in IBAN.finditer(text):
        raw = match.group()
        # the mod-97 checksum alone (``stdnum``'s first check) weeds out look-alikes before
        # the country tables are looked up
        compact = raw.replace(" ", "")
        if not mod_97_10.is_valid(compact[4:] + compact[:4]) or not stdnum_iban.is_valid(raw):
            continue
        score, why = IBAN_CONTEXT.adjust(0.9, lowered, match.start(), match.end())
        out.append(
            Finding(
                "pii.iban",
                match.start(),
                match.end(),
                score,
                NAME,
                join(f"iban with valid mod-97 checksum, country {raw[:2]}", why),
            )
        )
    return out


def _ssns(text: str, lowered: str, start: int, stop: int) -> list[Finding]:
    out = []
    for match in SSN.finditer(text, start, stop):
        digits = match.group(1) + match.group(3) + match.group(4)
        if not ssn.is_valid(digits):
            continue
        separated = bool(match.group(2))
        up, _ = SSN_CONTEXT.near(lowered, match.start(), match.end())
        if not separated and up is None:
            continue  # nine bare digits are an SSN only when named as one
        score, why = SSN_CONTEXT.adjust(
            0.6 if separated else 0.5, lowered, match.start(), match.end()
        )
        out.append(
            Finding(
                "pii.ssn",
                match.start(),
                match.end(),
                score,
                NAME,
                join("us ssn in an issued range", why),
            )
        )
    return out


def _national_ids(
    spec: NationalId, text: str, lowered: str, start: int, stop: int, confirmed: set[Finding]
) -> list[Finding]:
    """Checksum-valid ``spec`` ids; those written next to their name go into ``confirmed``."""
    out = []
    for match in spec.pattern.finditer(text, start, stop):
        up, _ = spec.context.near(lowered, match.start(), match.end())
        if spec.needs_context and up is None:
            continue
        if not spec.is_valid(match.group()):
            continue
        score, why = spec.context.adjust(spec.score, lowered, match.start(), match.end())
        finding = Finding(
            spec.type,
            match.start(),
            match.end(),
            score,
            NAME,
            join("checksum-valid national id", why),
        )
        out.append(finding)
        if up is not None:
            confirmed.add(finding)
    return out


def _ipv4s(text: str, lowered: str, start: int, stop: int) -> list[Finding]:
    out = []
    for match in IPV4.finditer(text, start, stop):
        try:
            v4 = ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        out.append(_ip(v4, match.start(), match.end(), lowered))
    return out


def _ipv6s(text: str, lowered: str) -> list[Finding]:
    out = []
    for match in ipv6_matches(text):
        raw = match.group()
        # eight groups, or fewer around a "::": any other shape ("10:30:00") is no address
        if len(raw) - raw.count(":") < 2 or ("::" not in raw and raw.count(":") != 7):
            continue
        try:
            v6 = ipaddress.IPv6Address(raw)
        except ValueError:
            continue
        out.append(_ip(v6, match.start(), match.end(), lowered))
    return out


def ipv6_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``IPV6.finditer(text)`` yields, tried only at the colon pairs of ``IPV6_HINT``.

    A match's first colon starts an ``IPV6_HINT`` match (a colon before it would fail
    the look-behind) and lies at most four characters after the match's start.
    """
    resume = 0  # matches do not overlap: none starts inside the previous one
    for hint in IPV6_HINT.finditer(text):
        colon = hint.start()  # a colon inside the previous match gives an empty range
        for start in range(max(resume, colon - 4), colon + 1):
            match = IPV6.match(text, start)
            if match is not None:
                yield match
                resume = match.end()
                break


def _digit_count(raw: str) -> int:
    if raw.isascii():
        return len(raw) - len(raw.translate(ASCII_DIGITS))
    return sum(ch.isdecimal() for ch in raw)  # what ``\d`` matches


def _ip(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, start: int, end: int, lowered: str
) -> Finding:
    public = address.is_global
    base = 0.6 if public else 0.3
    score, why = IP_CONTEXT.adjust(base, lowered, start, end)
    kind = "public" if public else "private or reserved"
    return Finding(
        "pii.ip_address",
        start,
        end,
        score,
        NAME,
        join(f"ipv{address.version} address, {kind}", why),
    )


def _dates_of_birth(text: str, lowered: str) -> list[Finding]:
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


def _without_overlaps(found: list[Finding], confirmed: set[Finding]) -> list[Finding]:
    """Keep the strongest finding where spans overlap (validated types before phone and IP)."""

    def rank(f: Finding) -> tuple[int, float, int]:
        priority = CONFIRMED_ID_PRIORITY if f in confirmed else PRIORITY.get(f.type, 2)
        return priority, -f.score, f.start

    ranked = sorted(found, key=rank)
    kept: list[Finding] = []
    for finding in ranked:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)
