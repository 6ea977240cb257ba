"""Candidate values in text: the emails, URLs, IBANs, numbers and paths a tool call can carry.

Provenance tracking compares values, not words, so each kind is normalised to
one spelling: the same IBAN with or without spaces, a URL with or without
``www.``, scheme or trailing slash, a phone number in any format (E.164) and an
amount with or without thousands separators are equal. Recognisers run in
priority order over the text and a span taken by one (an email) is not read
again by a later one (its domain). Only the words holding a digit, `@`, `/`,
`\\`, a currency sign or an inner `.` are read, so prose costs one scan.
Patterns have no ambiguous nested repetition (adversarial inputs are in the
tests) and work is bounded: a text longer than ``MAX_TEXT_CHARS`` is read on
its head and tail, each part giving at most ``MAX_CANDIDATES`` values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

EMAIL, URL, DOMAIN, IBAN, ACCOUNT, PHONE_KIND, PATH, AMOUNT = (
    "email",
    "url",
    "domain",
    "iban",
    "account",
    "phone",
    "path",
    "amount",
)
KINDS = (EMAIL, URL, DOMAIN, IBAN, ACCOUNT, PHONE_KIND, PATH, AMOUNT)
MAX_TEXT_CHARS = 128 * 1024  # longer texts: the first and last half of this are read
MAX_CANDIDATES = 1_000  # per text
MAX_DEPTH = 32  # of an argument tree
MAX_NODES = 10_000  # values visited in one argument tree
DEFAULT_REGION = "US"


@dataclass(frozen=True, slots=True, order=True)
class CandidateValue:
    """One normalised value of one kind: ``CandidateValue("email", "mark@example.com")``."""

    kind: str
    value: str


_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![\w-])"
)
_URL = re.compile(
    r"(?<![\w@.-])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`{}|\\^\[\]]{1,2048}", re.IGNORECASE
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])",
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
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}")
FILE_EXTENSIONS = frozenset(
    str.split(
        "pdf txt doc docx xls xlsx ppt pptx csv tsv md rst json yaml yml xml html htm png jpg "
        "jpeg gif svg webp bmp tif tiff zip tar gz tgz 7z rar py js ts sh bat ps1 log ini cfg "
        "conf toml mp3 mp4 mov wav avi mkv odt ods odp rtf eml msg pem key db sqlite bak exe "
        "dll bin iso dmg apk ics vcf epub tex sql ipynb parquet pages numbers"
    )
)
_EXTENSIONS = "|".join(sorted(FILE_EXTENSIONS, key=len, reverse=True))
_UNIX_PATH = re.compile(r"(?<![\w/.:~\\<-])(?:~|\.{1,2})?/+(?:[\w.-]+/+)*[\w.-]+/?")
_WINDOWS_PATH = re.compile(r"(?<![\w])[A-Za-z]:[\\/](?:[\w .-]+[\\/])*[\w.-]+")
# Anchored on the dot, so the scan skips to dots in C; the name is read backwards.
_EXTENSION_AT = re.compile(rf"\.(?i:{_EXTENSIONS})(?![\w-]|\.\w)")
_TLD_AT = re.compile(r"\.(?P<tld>[A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9])")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_RELATIVE_PATH_CHARS = _NAME_CHARS | {"/"}
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
_TRAILING = ".,;:!?'\")]}*>"


def extract_values(text: str) -> frozenset[CandidateValue]:
    """The candidate values in ``text``, normalised."""
    if len(text) <= 256:
        return _extract_short(text)
    return _extract(text)


@lru_cache(maxsize=8192)
def _extract_short(text: str) -> frozenset[CandidateValue]:
    # Arguments repeat (the same recipient, the same account): cache the short ones.
    return _extract(text)


def _extract(text: str) -> frozenset[CandidateValue]:
    if len(text) > MAX_TEXT_CHARS:
        half = MAX_TEXT_CHARS // 2
        return _extract(text[:half]) | _extract(text[-half:])
    windows = _windows(text)
    if not windows:
        return frozenset()
    found = _Found(text)
    for start, end in windows:
        window = text[start:end]
        for wanted, recogniser in _RECOGNISERS:
            if wanted(window):
                recogniser(text, found, start, end)
        if found.full:
            break
    return frozenset(found.values)


# Every kind holds one of these characters; a `.` followed only by punctuation is the
# end of a sentence, not a hint (`report.pdf` and `./run.sh` are).
_HINT = re.compile(r"[\d@/\\$€£¥₹.]\S*")
_DIGIT = re.compile(r"\d")
_MERGE_GAP = 16  # windows this close are read as one: fewer, longer scans


def _windows(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` worth reading: each word holding a hint, merged when close.

    The recognisers run on these spans only, so prose costs one C-level scan.
    A span starts where its word starts and ends at whitespace; patterns still
    see the characters before a span (lookbehind reads the whole text), and
    words close together (`DE89 3704 …`, `+1 (202) 555-0143`) share a span.
    """
    spans: list[tuple[int, int]] = []
    for match in _HINT.finditer(text):
        run = match.group()
        if run[0] == "." and not run.strip(_TRAILING):
            continue  # the end of a sentence
        hit = match.start()
        if spans and spans[-1][1] + _MERGE_GAP >= hit:
            spans[-1] = (spans[-1][0], match.end())
            continue
        floor = max(0, hit - 256)
        start = max(
            floor,
            text.rfind(" ", floor, hit) + 1,
            text.rfind("\n", floor, hit) + 1,
            text.rfind("\t", floor, hit) + 1,
        )
        spans.append((start, match.end()))
    return spans


class _Found:
    """Values found so far and the spans they took, so later recognisers skip them."""

    __slots__ = ("_taken", "full", "values")

    def __init__(self, text: str) -> None:
        self.values: set[CandidateValue] = set()
        self._taken = bytearray(len(text))
        self.full = False

    def free(self, start: int, end: int) -> bool:
        return self._taken.find(1, start, end) == -1

    def take(self, start: int, end: int, *values: CandidateValue) -> None:
        self._taken[start:end] = b"\x01" * (end - start)
        for value in values:
            if len(self.values) >= MAX_CANDIDATES:
                self.full = True
                return
            self.values.add(value)


def _emails(text: str, found: _Found, start: int, end: int) -> None:
    for match in _EMAIL.finditer(text, start, end):
        if found.free(match.start(), match.end()):
            found.take(match.start(), match.end(), CandidateValue(EMAIL, match.group().lower()))


def _urls(text: str, found: _Found, start: int, end: int) -> None:
    for match in _URL.finditer(text, start, end):
        raw = _trim(match.group())
        values = _url_values(raw)
        if values and found.free(match.start(), match.start() + len(raw)):
            found.take(match.start(), match.start() + len(raw), *values)


def _trim(raw: str) -> str:
    while raw and raw[-1] in _TRAILING:
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
    """``host`` lowercased without ``www.`` and a final dot; None when not a host name."""
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host if _HOST.fullmatch(host) else None


def _ibans(text: str, found: _Found, start: int, end: int) -> None:
    for match in _IBAN.finditer(text, start, end):
        raw = match.group().upper()
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


def _amounts(text: str, found: _Found, start: int, end: int) -> None:
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


def _phones(text: str, found: _Found, start: int, end: int) -> None:
    # imported on the first text with digits: a check without any loads no phone metadata
    from proctor.scanners.pii import PHONE

    for match in PHONE.finditer(text, start, end):
        raw = match.group()
        if not 7 <= sum(ch.isdigit() for ch in raw) <= 15 or _DATE.match(raw):
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


def _accounts(text: str, found: _Found, start: int, end: int) -> None:
    for match in _ACCOUNT.finditer(text, start, end):
        raw = match.group()
        if _DATE.match(raw) or not found.free(match.start(), match.end()):
            continue
        digits = "".join(ch for ch in raw if ch.isdigit())
        found.take(match.start(), match.end(), CandidateValue(ACCOUNT, digits))


def _unix_paths(text: str, found: _Found, start: int, end: int) -> None:
    for match in _UNIX_PATH.finditer(text, start, end):
        value = normalise_unix_path(match.group())
        if value is not None and found.free(match.start(), match.end()):
            found.take(match.start(), match.end(), CandidateValue(PATH, value))


def _windows_paths(text: str, found: _Found, start: int, end: int) -> None:
    for match in _WINDOWS_PATH.finditer(text, start, end):
        raw = match.group()
        value = raw[0].upper() + raw[1:].replace("\\", "/")
        if found.free(match.start(), match.end()):
            found.take(match.start(), match.end(), CandidateValue(PATH, value))


def _file_names(text: str, found: _Found, start: int, end: int) -> None:
    """Names with a file extension: `report.pdf`, `docs/team-building.docx`."""
    floor = start  # a name never reaches back past the previous one: linear work
    for match in _EXTENSION_AT.finditer(text, start, end):
        first = _read_back(text, match.start(), floor, _RELATIVE_PATH_CHARS)
        floor = match.end()
        if first is None or first == match.start() or text[first] in "./":
            continue
        name = text[first : match.end()]
        value = normalise_unix_path(name) if "/" in name else name
        if value is not None and found.free(first, match.end()):
            found.take(first, match.end(), CandidateValue(PATH, value))


def _read_back(text: str, index: int, floor: int, allowed: frozenset[str]) -> int | None:
    """Where the run of ``allowed`` characters ending at ``index`` starts; None when it
    continues into a word, an email or a path (`a/b.txt` is a path, not a name)."""
    limit = max(floor, index - 253)
    while index > limit and text[index - 1] in allowed:
        index -= 1
    if index > 0:
        before = text[index - 1]
        if before.isalnum() or before in "_@/\\:.-":
            return None
    return index


def normalise_unix_path(raw: str) -> str | None:
    """``raw`` without ``./``, repeated or trailing slashes; None for `/word` alone."""
    path = re.sub(r"/{2,}", "/", raw.rstrip(".-"))
    while path.startswith("./"):
        path = path[2:]
    if len(path) > 1:
        path = path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    relative = raw.startswith(("~", "."))
    has_extension = "." in last.strip(".")
    if not relative and not has_extension and path.count("/") < 2:
        return None  # `/s`, `/etc`: too short to tell from prose
    return path


def _domains(text: str, found: _Found, start: int, end: int) -> None:
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
        first = _read_back(text, match.start(), previous_floor, _HOST_CHARS)
        if first is None or first == match.start():
            continue
        host = normalise_host(text[first : match.end()])
        if host is not None and found.free(first, match.end()):
            found.take(first, match.end(), CandidateValue(DOMAIN, host))


def _has_digit(window: str) -> bool:
    return _DIGIT.search(window) is not None


def _has_url(window: str) -> bool:
    return "://" in window or "www." in window or "WWW." in window


# Priority order: a span taken by an earlier recogniser is not read by a later one.
# Each runs only on windows holding what its kind needs.
_Recogniser = Callable[[str, _Found, int, int], None]
_RECOGNISERS: tuple[tuple[Callable[[str], bool], _Recogniser], ...] = (
    (_has_url, _urls),  # first: `https://user@host/` is a URL, not an email
    (lambda window: "@" in window, _emails),
    (_has_digit, _ibans),
    (_has_digit, _amounts),
    (_has_digit, _phones),
    (_has_digit, _accounts),
    (lambda window: "/" in window, _unix_paths),
    (lambda window: ":\\" in window or ":/" in window, _windows_paths),
    (lambda window: "." in window, _file_names),
    (lambda window: "." in window, _domains),
)


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


def values_in(tree: Any) -> dict[str, frozenset[CandidateValue]]:
    """Argument path (``recipient``, ``items[0].iban``) -> the candidate values at it.

    Strings are read for candidates; numbers count as ``number_values`` says,
    by the name of the field holding them. Paths without candidates are left
    out; a string at the top has the path ``""``.
    """
    out: dict[str, frozenset[CandidateValue]] = {}
    for path, key, leaf in _leaves(tree):
        values = _leaf_values(leaf, key)
        if values:
            out[path] = values
    return out


def all_values(tree: Any) -> set[CandidateValue]:
    """Every candidate value anywhere in ``tree``."""
    found: set[CandidateValue] = set()
    for _, key, leaf in _leaves(tree, with_paths=False):
        found |= _leaf_values(leaf, key)
    return found


def _leaf_values(leaf: Any, key: str) -> frozenset[CandidateValue]:
    if isinstance(leaf, str):
        return extract_values(leaf)
    if isinstance(leaf, bool):
        return frozenset()
    if isinstance(leaf, int | float):
        return number_values(leaf, key)
    return frozenset()


def _leaves(tree: Any, *, with_paths: bool = True) -> Iterator[tuple[str, str, Any]]:
    """``(path, field name, leaf)`` for every string and number, walked iteratively and
    bounded; a list item has the field name of its list."""
    stack: list[tuple[str, str, Any, int]] = [("", "", tree, 0)]
    visited = 0
    while stack:
        path, key, node, depth = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            return
        if isinstance(node, str | int | float):
            yield path, key, node
        elif isinstance(node, bytes | bytearray):
            text = bytes(node[: MAX_TEXT_CHARS * 4]).decode("utf-8", errors="replace")
            yield path, key, text
        elif isinstance(node, Mapping | list | tuple) and depth < MAX_DEPTH:
            children: list[tuple[str, str, Any, int]] = []
            if isinstance(node, Mapping):
                for name, child in node.items():
                    step = _key_step(name, path) if with_paths else ""
                    children.append((step, str(name), child, depth + 1))
            else:
                for index, child in enumerate(node):
                    step = f"{path}[{index}]" if with_paths else ""
                    children.append((step, key, child, depth + 1))
            stack.extend(reversed(children))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _key_step(key: Any, path: str) -> str:
    """``path`` and ``key`` as a condition spells it: ``a.b``, ``a["b-c"]``, ``a[0]``."""
    key = str(key)
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'
