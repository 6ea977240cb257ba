"""Contact details: e-mail addresses, and phone numbers in E.164."""

from __future__ import annotations

import re
from functools import lru_cache

from proctor.scanners.candidates.values import DATE, EMAIL, PHONE_KIND, CandidateValue, Found

DEFAULT_REGION = "US"
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![\w-])"
)


def emails(text: str, found: Found, start: int, end: int) -> None:
    for match in _EMAIL.finditer(text, start, end):
        if found.free(match.start(), match.end()):
            found.take(
                match.start(), match.end(), CandidateValue(EMAIL, normalise_email(match.group()))
            )


def normalise_email(address: str) -> str:
    """Lowercased, without a subaddress (RFC 5233): ``Ann+News@X.org`` -> ``ann@x.org``, the
    mailbox that receives it."""
    local, _, domain = address.lower().rpartition("@")
    base = local.split("+", 1)[0]
    return f"{base or local}@{domain}"


def phones(text: str, found: Found, start: int, end: int) -> None:
    # imported on the first text with digits: a check without any loads no phone metadata
    from proctor.scanners.phones import CANDIDATE as PHONE

    for match in PHONE.finditer(text, start, end):
        raw = match.group()
        if not 7 <= sum(ch.isdigit() for ch in raw) <= 15 or DATE.match(raw):
            continue
        if not found.free(match.start(), match.end()):
            continue
        value = normalise_phone(raw)
        if value is not None:
            found.take(match.start(), match.end(), CandidateValue(PHONE_KIND, value))


@lru_cache(maxsize=4096)
def normalise_phone(raw: str) -> str | None:
    """E.164 (``+12025550143``) of a valid number; national numbers are read as US."""
    import phonenumbers

    international = raw.startswith(("+", "00"))
    candidate = "+" + raw[2:] if raw.startswith("00") else raw
    try:
        number = phonenumbers.parse(candidate, None if international else DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
