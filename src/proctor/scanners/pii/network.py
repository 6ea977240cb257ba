"""IP addresses (v4 and v6), validated by ``ipaddress``; public ones score higher."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from proctor.scanners.context import ContextWords
from proctor.scanners.findings import Finding
from proctor.scanners.pii.finding import pii_finding

# A sentence may end right after the address ("at 94.49.183.166."); a fifth group may not.
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")  # found fast (starts with a literal)
IP_CONTEXT = ContextWords(
    ("ip", "address", "host", "client", "from"), ("version", "release", "build", "firmware")
)


def ipv4s(text: str, lowered: str, start: int, stop: int) -> list[Finding]:
    out = []
    for match in IPV4.finditer(text, start, stop):
        try:
            v4 = ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        out.append(_ip(v4, match.start(), match.end(), lowered))
    return out


def ipv6s(text: str, lowered: str) -> list[Finding]:
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


def _ip(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, start: int, end: int, lowered: str
) -> Finding:
    public = address.is_global
    base = 0.6 if public else 0.3
    kind = "public" if public else "private or reserved"
    reason = f"ipv{address.version} address, {kind}"
    return pii_finding("pii.ip_address", (start, end), reason, base, IP_CONTEXT, lowered)
