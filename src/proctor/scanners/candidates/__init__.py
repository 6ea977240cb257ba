"""Candidate values in text: the emails, URLs, IBANs, numbers and paths a tool call can carry.

Provenance tracking compares values, not words, so each kind is normalised to
one spelling: the same IBAN with or without spaces, a URL with or without
``www.``, scheme or trailing slash, a phone number in any format (E.164) and an
amount with or without thousands separators are equal. Recognisers run in
priority order over the text and a span taken by one (an email) is not read
again by a later one (its domain). Only the words holding a digit, `@`, `/`,
`\\`, a currency sign or an inner `.` are read, so prose costs one scan.
Patterns have no ambiguous nested repetition (adversarial inputs are in the
tests) and work is bounded: a text longer than ``MAX_TEXT_CHARS`` is read whole
in overlapping parts up to ``MAX_READ_CHARS``, at most ``MAX_CANDIDATES`` values.

The package holds one module per family of values (``contacts``, ``web``,
``money``, ``paths``), the value type and the bookkeeping they share
(``values``), and the reading of a text or an argument tree (``extract``).
"""

from proctor.scanners.candidates.contacts import DEFAULT_REGION, normalise_phone
from proctor.scanners.candidates.extract import all_values, extract_values, values_in
from proctor.scanners.candidates.money import iban_checksum_valid, normalise_amount, number_values
from proctor.scanners.candidates.paths import FILE_EXTENSIONS, normalise_unix_path
from proctor.scanners.candidates.values import (
    ACCOUNT,
    AMOUNT,
    DOMAIN,
    EMAIL,
    IBAN,
    KINDS,
    MAX_CANDIDATES,
    MAX_DEPTH,
    MAX_NODES,
    MAX_READ_CHARS,
    MAX_TEXT_CHARS,
    PART_OVERLAP,
    PATH,
    PHONE_KIND,
    URL,
    CandidateValue,
)
from proctor.scanners.candidates.web import GENERIC_TLDS, normalise_host, normalise_url

__all__ = [
    "ACCOUNT",
    "AMOUNT",
    "DEFAULT_REGION",
    "DOMAIN",
    "EMAIL",
    "FILE_EXTENSIONS",
    "GENERIC_TLDS",
    "IBAN",
    "KINDS",
    "MAX_CANDIDATES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_READ_CHARS",
    "MAX_TEXT_CHARS",
    "PART_OVERLAP",
    "PATH",
    "PHONE_KIND",
    "URL",
    "CandidateValue",
    "all_values",
    "extract_values",
    "iban_checksum_valid",
    "normalise_amount",
    "normalise_host",
    "normalise_phone",
    "normalise_unix_path",
    "normalise_url",
    "number_values",
    "values_in",
]
