"""National ids: US SSNs outside the ranges the SSA never issues (area 000, 666, 900-999;
group 00; serial 0000), and others validated by ``python-stdnum``; the ones without a
distinctive format count only next to their name."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.es import dni
from stdnum.fi import hetu
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from proctor.scanners.context import ContextWords
from proctor.scanners.findings import Finding
from proctor.scanners.pii.finding import pii_finding

SSN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
SSN_CONTEXT = ContextWords(
    ("ssn", "social security", "ss#", "tax id", "taxpayer"),
    ("order", "invoice", "tracking", "phone", "tel"),
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


def ssns(text: str, lowered: str, start: int, stop: int) -> list[Finding]:
    out = []
    for match in SSN.finditer(text, start, stop):
        digits = match.group(1) + match.group(3) + match.group(4)
        if not ssn.is_valid(digits):
            continue
        separated = bool(match.group(2))
        up, _ = SSN_CONTEXT.near(lowered, match.start(), match.end())
        if not separated and up is None:
            continue  # nine bare digits are an SSN only when named as one
        base = 0.6 if separated else 0.5
        reason = "us ssn in an issued range"
        out.append(pii_finding("pii.ssn", match.span(), reason, base, SSN_CONTEXT, lowered))
    return out


def national_ids(
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
        finding = pii_finding(
            spec.type, match.span(), "checksum-valid national id", spec.score, spec.context, lowered
        )
        out.append(finding)
        if up is not None:
            confirmed.add(finding)
    return out
