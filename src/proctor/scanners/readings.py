"""Other readings of a text for the pattern scanners: hidden characters removed and
look-alikes folded, and HTML entities, percent-escapes and base64 decoded.

A key or a card number written with zero-width characters or soft hyphens
between its characters, in full-width digits, with Cyrillic look-alikes, as
``&#x41;...``, as ``%41...`` or in base64 reads the same to whoever receives
it (a person, a browser, a decoder), but not to a pattern. The pattern scanners
(``pii``, ``secrets``) read the text as given and then each reading that
differs from it; ``Reading.span`` maps a span of a reading back to the text
(a decoded character to its whole escape), so a finding and a redaction cover
the original characters. A text of ASCII without ``&``, ``%`` or a long
base64 run has no other reading, at the cost of a few substring searches.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.entities import html5

import re2

from proctor.scanners.findings import Finding
from proctor.scanners.normalise import (
    ASCII_RUN_OR_CHAR,
    BIDI,
    HOMOGLYPHS,
    LATIN_LOOKALIKES,
    MARKS,
    TAGS,
    ZERO_WIDTH,
)

# Characters that change nothing a reader makes of a key or a number: the hidden ones and
# the marks drawn over letters of ``normalise``, the invisible operators and the combining
# grapheme joiner.
INVISIBLE = ZERO_WIDTH | MARKS | frozenset("\u2061\u2062\u2063\u2064\u034f")
# What folding changes besides NFKC forms: a text holding none of these nor another
# script's digit (and NFKC-stable) folds to itself, found at C speed
FOLDABLE = re.compile(
    "["
    + re.escape("".join(sorted(INVISIBLE | BIDI | LATIN_LOOKALIKES)))
    + "\u0370-\u03ff\U000e0000-\U000e007f]"
)
OTHER_DIGIT = re.compile(r"[^\D0-9]")  # digits of other scripts (Arabic-Indic, Devanagari...)
ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
BACKSLASH_RUN = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+|(?:\\u[0-9A-Fa-f]{4})+")
BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){16,}(?![0-9A-Fa-f])")
# What any BASE64 / HEX match contains; RE2 rules these out in linear time, so most
# texts skip the two patterns above (their look-arounds need Python's ``re``).
BASE64_HINT = re2.compile(r"[A-Za-z0-9+/]{24}")
HEX_HINT = re2.compile(r"[0-9A-Fa-f]{32}")
MAX_DECODED = 64  # base64 runs decoded per text
FOLDED = "read with hidden characters and look-alikes folded"
DECODED = "read with escapes and base64 decoded"


@dataclass(frozen=True, slots=True)
class Reading:
    """``text`` read another way; its character ``i`` stands for ``[starts[i], ends[i])``."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]
    how: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` of a span of this reading."""
        if start >= len(self.starts):
            last = self.ends[-1] if self.ends else 0
            return last, last
        return self.starts[start], self.ends[max(start, end - 1)]

    def finding(self, finding: Finding) -> Finding:
        """``finding`` of this reading spanning the original text, saying how it was read."""
        start, end = self.span(finding.start, finding.end)
        detail = f"{finding.detail}; {self.how}" if finding.detail else self.how
        return Finding(finding.type, start, end, finding.score, finding.scanner, detail)

    def after(self, inner: Reading) -> Reading:
        """``inner`` (a reading of this reading's text) as a reading of the original text."""
        return Reading(
            inner.text,
            [self.starts[s] for s in inner.starts],
            [self.ends[e - 1] for e in inner.ends],
            f"{self.how}, {inner.how}",
        )


@lru_cache(maxsize=2)  # the pii and secrets stages read the same text one after the other
def readings(text: str) -> tuple[Reading, ...]:
    """The readings of ``text`` that differ from it: folded, decoded (of the folded), and
    the decoded folded again (escapes that spelled out hidden characters, `\\xe2\\x80\\x8b`)."""
    out: list[Reading] = []
    folded = fold(text)
    if folded is not None:
        out.append(folded)
    decoded = decode(folded.text if folded is not None else text)
    if decoded is not None:
        decoded = folded.after(decoded) if folded is not None else decoded
        out.append(decoded)
        refolded = fold(decoded.text)
        if refolded is not None:
            out.append(decoded.after(refolded))
    return tuple(out)


def fold(text: str, *, look_alikes: bool = True) -> Reading | None:
    """``text`` without invisible and bidi characters, tag characters read as the ASCII they
    hide, NFKC applied (full-width, styled letters, other spaces) and (``look_alikes``)
    look-alikes folded, case kept; None when that changes nothing."""
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text)
        and FOLDABLE.search(text) is None
        and OTHER_DIGIT.search(text) is None
    ):
        return None  # the common non-ASCII text (accents, other scripts): nothing to fold
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    changed = False
    for run in ASCII_RUN_OR_CHAR.finditer(text):
        position = run.start()
        piece = run.group()
        if len(piece) > 1 or piece.isascii():
            chars.append(piece)
            starts.extend(range(position, run.end()))
            ends.extend(range(position + 1, run.end() + 1))
            continue
        code = ord(piece)
        if piece in INVISIBLE or piece in BIDI or (code in TAGS and not 0xE0020 <= code <= 0xE007E):
            changed = True
            continue
        if code in TAGS:
            folded = chr(code - 0xE0000)
        elif piece.isdecimal():  # `٤١١١`: the digits a validator reads (``int`` does)
            folded = str(unicodedata.decimal(piece))
        else:
            folded = unicodedata.normalize("NFKC", piece)
            if look_alikes:
                folded = folded.translate(HOMOGLYPHS)
        changed = changed or folded != piece
        chars.append(folded)
        starts.extend([position] * len(folded))
        ends.extend([position + 1] * len(folded))
    if not changed:
        return None
    return Reading("".join(chars), starts, ends, FOLDED)


def decode(text: str, *, with_base64: bool = True) -> Reading | None:
    """``text`` with HTML character references, percent-escapes, backslash escapes
    (`\\x41`, `\\u0041`) and (``with_base64``) base64 runs of printable UTF-8 decoded in
    place; None when there are none."""
    # start, end, decoded, and the width of one escape when each gives one character (else 0)
    pieces: list[tuple[int, int, str, int]] = []
    if "&" in text and ";" in text:
        entities = ((m, _entity(m)) for m in ENTITY.finditer(text))
        pieces += [(m.start(), m.end(), decoded, 0) for m, decoded in entities if decoded]
    if "%" in text:
        pieces += [_escaped_bytes(m, 3) for m in PERCENT_RUN.finditer(text)]
    if "\\" in text:
        pieces += [_backslashed(m) for m in BACKSLASH_RUN.finditer(text)]
    if with_base64:
        pieces += [
            (run.start, run.end, run.decoded, 0)
            for run in encoded_runs(text)
            if run.encoding == "base64"
        ]
    if not pieces:
        return None
    pieces.sort()
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for start, end, decoded, width in pieces:
        if start < position:  # inside a piece already decoded
            continue
        chars.append(text[position:start])
        starts.extend(range(position, start))
        ends.extend(range(position + 1, start + 1))
        chars.append(decoded)
        if width and len(decoded) * width == end - start:  # one character per `%xx`, `\\x..`
            starts.extend(range(start, end, width))
            ends.extend(range(start + width, end + 1, width))
        else:
            starts.extend([start] * len(decoded))
            ends.extend([end] * len(decoded))
        position = end
    chars.append(text[position:])
    starts.extend(range(position, len(text)))
    ends.extend(range(position + 1, len(text) + 1))
    return Reading("".join(chars), starts, ends, DECODED)


def _entity(match: re.Match[str]) -> str:
    body = match.group()[1:-1]
    if body[0] != "#":
        return html5.get(body + ";", "")
    code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""


def _escaped_bytes(match: re.Match[str], width: int) -> tuple[int, int, str, int]:
    """A run of `%xx` (``width`` 3) or `\\xNN` (4) escapes: the UTF-8 its bytes spell."""
    escaped = match.group()
    raw = bytes.fromhex(
        "".join(escaped[i + width - 2 : i + width] for i in range(0, len(escaped), width))
    )
    return match.start(), match.end(), raw.decode("utf-8", errors="replace"), width * raw.isascii()


def _backslashed(match: re.Match[str]) -> tuple[int, int, str, int]:
    """A run of `\\xNN` (a bytes literal) or `\\uNNNN` (JSON, JavaScript) escapes, decoded."""
    escaped = match.group()
    if escaped[1] == "x":
        return _escaped_bytes(match, 4)
    units = [int(escaped[i + 2 : i + 6], 16) for i in range(0, len(escaped), 6)]
    decoded = b"".join(unit.to_bytes(2, "big") for unit in units).decode("utf-16-be", "replace")
    return match.start(), match.end(), decoded, 6 * (len(decoded) == len(units))


@dataclass(frozen=True, slots=True)
class EncodedRun:
    """A run of base64 or hex in a text, and the printable UTF-8 it decodes to."""

    start: int
    end: int
    encoding: str
    decoded: str


@lru_cache(maxsize=2)  # read by the pattern stages' decoded reading and by stage 1's rules
def encoded_runs(text: str) -> tuple[EncodedRun, ...]:
    """The base64 and hex runs of ``text`` (the first ``MAX_DECODED``) that decode to
    printable UTF-8."""
    candidates: list[tuple[re.Match[str], str]] = []
    if BASE64_HINT.search(text):
        candidates += [(m, "base64") for m in BASE64.finditer(text)]
    if HEX_HINT.search(text):
        candidates += [(m, "hex") for m in HEX.finditer(text)]
    out = []
    for match, encoding in candidates[:MAX_DECODED]:
        decoded = decode_printable(match.group(), encoding)
        if decoded is not None:
            out.append(EncodedRun(match.start(), match.end(), encoding, decoded))
    return tuple(out)


def decode_printable(value: str, encoding: str) -> str | None:
    """``value`` decoded from ``base64`` or ``hex`` when it is printable UTF-8, else None."""
    try:
        if encoding == "hex":
            raw = binascii.unhexlify(value)
        else:
            raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=False)
        decoded = raw.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in decoded)
    return decoded if decoded and printable / len(decoded) > 0.9 else None
