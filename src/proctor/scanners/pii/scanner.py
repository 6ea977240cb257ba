"""The ``pii`` scanner: every detector of the package over one text, overlaps resolved.

Numeric detectors run only on the number runs with enough digits for them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from proctor.scanners.context import ContextWords, join
from proctor.scanners.findings import Direction, Finding
from proctor.scanners.phones import DEFAULT_REGIONS, PhoneFinder
from proctor.scanners.pii.birth import dates_of_birth
from proctor.scanners.pii.contact import emails
from proctor.scanners.pii.finding import NAME
from proctor.scanners.pii.ids import NATIONAL_IDS, NationalId, national_ids, ssns
from proctor.scanners.pii.network import ipv4s, ipv6s
from proctor.scanners.pii.payment import cards, ibans
from proctor.scanners.readings import readings

# Runs of digits and the separators numbers are written with. Every numeric pattern
# (cards, SSNs, IPv4, phones, national ids) matches inside one run (or starts one
# character before it, at a "+" or "("), so each runs only on the runs with enough
# digits for it.
NUMBER_RUN = re.compile(r"\d[\d .()+-]*(?:(?:x|ext\.?|extn?\.?|extension|#)[ \t]*\d{1,6})?")
ASCII_DIGITS = str.maketrans("", "", "0123456789")
PHONE_CONTEXT = ContextWords(
    ("phone", "tel", "call", "mobile", "cell", "fax", "whatsapp", "sms"),
    (
        "order",
        "invoice",
        "tracking",
        "ref",
        "id:",
        "#",
        "isbn",
        "version",
        "build",
        "total",
        "amount",
        "price",
        "$",
        "€",
        "£",
    ),
)
POSSIBLE_PHONE_SCORE = 0.35

# Types whose validation is strongest win overlaps against weaker ones (phone, ip); a
# national id confirmed by its name ("Aadhaar 5680 9250 5466") beats a card read in it.
PRIORITY = {"pii.payment_card": 0, "pii.iban": 0, "pii.ssn": 1, "pii.email": 1}
CONFIRMED_ID_PRIORITY = -1


class PiiScanner:
    """Emails, phone numbers, payment cards, IBANs, US SSNs, IPs, dates of birth, national ids."""

    name = NAME
    cost = 10
    types = frozenset({"pii"})

    def __init__(self, phone_regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.phone_regions = tuple(phone_regions)
        self._phones = PhoneFinder(self.phone_regions)

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        found, confirmed = self._scan(text)
        for reading in readings(text):  # hidden characters, look-alikes, escapes, base64
            more, more_confirmed = self._scan(reading.text)
            mapped = {finding: reading.finding(finding) for finding in more}
            found.extend(mapped.values())
            confirmed |= {mapped[finding] for finding in more_confirmed}
        return _without_overlaps(found, confirmed) if found else found

    def _scan(self, text: str) -> tuple[list[Finding], set[Finding]]:
        """Every detector's findings in ``text``, overlaps kept, and the confirmed national ids."""
        if not any(ch.isdigit() or ch == "@" or ch == ":" for ch in text):
            return [], set()
        lowered = text.lower()
        found: list[Finding] = []
        if "@" in text:
            found.extend(emails(text, lowered))
        found.extend(ibans(text, lowered))
        if ":" in text:
            found.extend(ipv6s(text, lowered))
        found.extend(dates_of_birth(text, lowered))
        # National ids named nowhere in the text cannot be next to their name.
        ids = [
            spec
            for spec in NATIONAL_IDS
            if not spec.needs_context or any(w in lowered for w in spec.context.raise_words)
        ]
        confirmed: set[Finding] = set()
        for spec in ids:
            if spec.digits is None:
                found.extend(national_ids(spec, text, lowered, 0, len(text), confirmed))
        for run in NUMBER_RUN.finditer(text):
            found.extend(self._in_run(run, text, lowered, ids, confirmed))
        return found, confirmed

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
            found.extend(cards(text, lowered, start, stop))
        if digits >= 9:
            found.extend(ssns(text, lowered, start, stop))
        if raw.count(".") >= 3:
            found.extend(ipv4s(text, lowered, start, stop))
        if digits >= 7:
            found.extend(self._phone_findings(text, lowered, start, stop))
        for spec in ids:
            if spec.digits is not None and digits >= spec.digits:
                end = run.end() + spec.reach
                found.extend(national_ids(spec, text, lowered, start, end, confirmed))
        return found

    def _phone_findings(self, text: str, lowered: str, start: int, stop: int) -> list[Finding]:
        out = []
        for phone in self._phones.find(text, start, stop):
            if phone.valid:
                # ungrouped digits are often ids; one opening with a trunk 0 is national form
                trunk = text.startswith("0", phone.start) and not text.startswith("00", phone.start)
                base = 0.65 if phone.international or phone.grouped else 0.55 if trunk else 0.45
                score, why = PHONE_CONTEXT.adjust(base, lowered, phone.start, phone.end)
                what = f"valid phone number, region {phone.region}"
            else:  # possible, not valid: only beside a phone word, below the usual scores
                up, down = PHONE_CONTEXT.near(lowered, phone.start, phone.end)
                if up is None or down is not None:
                    continue
                score, why = POSSIBLE_PHONE_SCORE, f"context `{up}`"
                what = f"possible phone number (not valid in {phone.region})"
            out.append(Finding("pii.phone", phone.start, phone.end, score, NAME, join(what, why)))
        return out


def _digit_count(raw: str) -> int:
    if raw.isascii():
        return len(raw) - len(raw.translate(ASCII_DIGITS))
    return sum(ch.isdecimal() for ch in raw)  # what ``\d`` matches


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
