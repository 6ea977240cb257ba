"""Web addresses: URLs (scheme, ``www.``, default port, trailing slash dropped) and bare hosts."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from proctor.scanners.candidates.paths import FILE_EXTENSIONS
from proctor.scanners.candidates.values import (
    DOMAIN,
    TRAILING,
    URL,
    CandidateValue,
    Found,
    read_back,
)

_URL = re.compile(
    r"(?<![\w@.-])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`{}|\\^\[\]]{1,2048}", re.IGNORECASE
)
_TLD_AT = re.compile(r"\.(?P<tld>[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}")
# Generic top-level domains common in prose that are not also common words
# (`.world`, `.live` are left out); two-letter country codes are all accepted.
GENERIC_TLDS = frozenset(
    str.split(
        "com net org edu gov mil int info biz io co app dev ai me tv xyz online site website "
        "tech store shop blog cloud"
    )
)


def urls(text: str, found: Found, start: int, end: int) -> None:
    for match in _URL.finditer(text, start, end):
        raw = _trim(match.group())
        values = _url_values(raw)
        if values and found.free(match.start(), match.start() + len(raw)):
            found.take(match.start(), match.start() + len(raw), *values)


def _trim(raw: str) -> str:
    while raw and raw[-1] in TRAILING:
        if raw[-1] == ")" and raw.count("(") >= raw.count(")"):
            break
        raw = raw[:-1]
    return raw


def normalise_url(raw: str) -> CandidateValue | None:
    """``url`` value of ``raw``: host lowercased without ``www.``, no http(s) scheme,
    default port, fragment or trailing slash; path and query kept as written."""
    values = _url_values(raw)
    return values[0] if values else None


def _url_values(raw: str) -> tuple[CandidateValue, ...]:
    has_scheme = "://" in raw[:8]
    try:
        parts = urlsplit(raw if has_scheme else "http://" + raw)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ()
    normal_host = normalise_host(host)
    if normal_host is None:
        return ()
    host = normal_host
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443, "ftp": 21}.get(scheme)
    netloc = host if port is None or port == default else f"{host}:{port}"
    prefix = "" if scheme in ("http", "https") else f"{scheme}://"
    query = f"?{parts.query}" if parts.query else ""
    url = f"{prefix}{netloc}{parts.path.rstrip('/')}{query}"
    return CandidateValue(URL, url), CandidateValue(DOMAIN, host)


def normalise_host(host: str) -> str | None:
    """``host`` lowercased without ``www.`` and a final dot, an internationalised name in
    its ASCII form (``xn--``, IDNA), so ``exаmple.com`` with a Cyrillic ``а`` is one host
    however it is written, and not ``example.com``; None when not a host name."""
    if not host.isascii():
        try:
            host = host.rstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            return None
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host if _HOST.fullmatch(host) else None


def domains(text: str, found: Found, start: int, end: int) -> None:
    """Bare host names (`example.com`, `www.shop.example.co.uk`), read back from the TLD."""
    floor = start  # a host never reaches back past the previous one: linear work
    for match in _TLD_AT.finditer(text, start, end):
        tld = match.group("tld")
        previous_floor, floor = floor, match.end()
        if not (tld.islower() or tld.isupper()):
            continue  # `end.It`: a missing space, not a host
        tld = tld.lower()
        if tld in FILE_EXTENSIONS or (len(tld) > 2 and tld not in GENERIC_TLDS):
            continue
        first = read_back(text, match.start(), previous_floor, _HOST_CHARS)
        if first is None or first == match.start():
            continue
        host = normalise_host(text[first : match.end()])
        if host is not None and found.free(first, match.end()):
            found.take(first, match.end(), CandidateValue(DOMAIN, host))
