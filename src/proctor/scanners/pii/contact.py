"""E-mail addresses, tried only where an "@" is."""

from __future__ import annotations

import re
from collections.abc import Iterator

from proctor.scanners.context import ContextWords
from proctor.scanners.findings import Finding
from proctor.scanners.pii.finding import pii_finding

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b"
)
# The local part's characters just before an "@" (one more than a local part may hold)
LOCAL_PART_TAIL = re.compile(r"[A-Za-z0-9._%+-]{1,65}$")
EMAIL_CONTEXT = ContextWords(("email", "e-mail", "mail", "contact"), ("example.com",))


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


def emails(text: str, lowered: str) -> list[Finding]:
    out = []
    for match in email_matches(text):
        out.append(
            pii_finding("pii.email", match.span(), "email address", 0.85, EMAIL_CONTEXT, lowered)
        )
    return out
