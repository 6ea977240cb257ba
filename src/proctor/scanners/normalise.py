"""Text normalised for pattern checks: hidden characters removed, look-alikes folded.

Zero-width and bidirectional control characters are dropped, Unicode tag
characters (U+E0020-E007E, "ASCII smuggling") are decoded to the ASCII they
hide, NFKC folds full-width and styled letters, a small table folds Cyrillic
and Greek look-alikes to Latin, and the result is lowercased with whitespace
collapsed. ``index`` maps every normalised character back to its original offset.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad")
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
TAGS = range(0xE0000, 0xE0080)
HOMOGLYPHS = str.maketrans(
    "аАвВеЕһҺіІјЈкКмМнНоОрРсСтТуУхХѕЅԁԛԝαΑβΒεΕηΗιΙκΚμΜνΝοΟρΡτΤυΥχΧζΖ",
    "aAbBeEhHiIjJkKmMhHoOpPcCtTyYxXsSdqwaAbBeEnHiIkKmMvNoOpPtTuYxXzZ",
)
WHITESPACE_RUN = re.compile(r"\s{2,}|[\t\r\f\v]")
LATIN_LOOKALIKES = frozenset("аАвВеЕһҺіІјЈкКмМнНоОрРсСтТуУхХѕЅԁԛԝ")


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    index: tuple[int, ...] | None  # None: same offsets as the original
    zero_width: tuple[int, ...]
    bidi: tuple[int, ...]
    tags: tuple[int, ...]
    mixed_script_words: tuple[tuple[int, int], ...]

    def span(self, start: int, end: int, length: int) -> tuple[int, int]:
        """The original ``[start, end)`` of a normalised span."""
        if self.index is None:
            return start, end
        first = self.index[start] if start < len(self.index) else length
        last = self.index[end - 1] + 1 if 0 < end <= len(self.index) else first
        return first, last


def normalise(text: str) -> Normalised:
    if text.isascii():
        return _normalise_ascii(text)
    chars: list[str] = []
    index: list[int] = []
    zero_width: list[int] = []
    bidi: list[int] = []
    tags: list[int] = []
    for position, ch in enumerate(text):
        if ch in ZERO_WIDTH:
            if not (ch == "\u200d" and _emoji_joiner(text, position)):
                zero_width.append(position)
            continue
        if ch in BIDI:
            bidi.append(position)
            continue
        code = ord(ch)
        if code in TAGS:
            tags.append(position)
            if 0xE0020 <= code <= 0xE007E:
                ch = chr(code - 0xE0000)
            else:
                continue
        folded = unicodedata.normalize("NFKC", ch) if code > 0x7F else ch
        folded = folded.translate(HOMOGLYPHS).lower()
        for out in folded:
            if out.isspace():
                if chars and chars[-1] in " \n":
                    if out == "\n":
                        chars[-1] = "\n"
                    continue
                out = "\n" if out == "\n" else " "
            chars.append(out)
            index.append(position)
    return Normalised(
        "".join(chars),
        tuple(index),
        tuple(zero_width),
        tuple(bidi),
        tuple(tags),
        _mixed_script_words(text),
    )


def _normalise_ascii(text: str) -> Normalised:
    lowered = text.lower()
    if not WHITESPACE_RUN.search(lowered):
        return Normalised(lowered, None, (), (), (), ())
    chars: list[str] = []
    index: list[int] = []
    position = 0
    for run in WHITESPACE_RUN.finditer(lowered):
        chars.append(lowered[position : run.start()])
        index.extend(range(position, run.start()))
        chars.append("\n" if "\n" in run.group() else " ")
        index.append(run.start())
        position = run.end()
    chars.append(lowered[position:])
    index.extend(range(position, len(lowered)))
    return Normalised("".join(chars), tuple(index), (), (), (), ())


def _emoji_joiner(text: str, position: int) -> bool:
    before = text[position - 1] if position > 0 else ""
    after = text[position + 1] if position + 1 < len(text) else ""
    return any(c and (ord(c) > 0x2000 and not c.isalpha()) for c in (before, after))


def _mixed_script_words(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of words mixing Latin letters with Cyrillic or Greek look-alikes."""
    spans = []
    start = None
    for position, ch in enumerate(text + " "):
        if ch.isalpha():
            if start is None:
                start = position
            continue
        if start is not None:
            word = text[start:position]
            if any(c in LATIN_LOOKALIKES or "\u0370" <= c <= "\u03ff" for c in word) and any(
                "a" <= c.lower() <= "z" for c in word
            ):
                spans.append((start, position))
            start = None
    return tuple(spans)
