"""Text normalised for pattern checks: hidden characters removed, look-alikes folded.

Zero-width and bidirectional control characters are dropped (and, silently,
combining marks drawn over letters and the Arabic tatweel), Unicode tag
characters (U+E0020-E007E, "ASCII smuggling") are decoded to the ASCII they
hide, NFKC folds full-width and styled letters, a small table folds Cyrillic
and Greek look-alikes to Latin, and the result is lowercased with whitespace
collapsed. ``index`` maps every normalised character back to its original offset.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) draw nothing: blank names and hidden text
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u115f\u1160\u3164\uffa0")
# Marks drawn over or between letters (strike-through, accents stacked on any letter, the
# Arabic tatweel that stretches a line): dropped without counting as hidden, since text
# in many scripts carries them
MARKS = frozenset(
    chr(code)
    for first, last in (
        (0x300, 0x36F),
        (0x1AB0, 0x1AFF),
        (0x1DC0, 0x1DFF),
        (0x20D0, 0x20FF),
        (0xFE20, 0xFE2F),
        (0x640, 0x640),
    )
    for code in range(first, last + 1)
)
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
TAGS = range(0xE0000, 0xE0080)
HOMOGLYPHS = str.maketrans(
    "аАвВеЕһҺіІјЈкКмМнНоОрРсСтТуУхХѕЅԁԛԝαΑβΒεΕηΗιΙκΚμΜνΝοΟρΡτΤυΥχΧζΖ",
    "aAbBeEhHiIjJkKmMhHoOpPcCtTyYxXsSdqwaAbBeEnHiIkKmMvNoOpPtTuYxXzZ",
)
WHITESPACE_RUN = re.compile(r"\s{2,}|[\t\r\f\v]")
# ASCII characters ``\s`` matches (``str.isspace``), all as a space: a run of two or more
# is then a run of spaces
ASCII_WHITESPACE_TO_SPACE = str.maketrans("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f", " " * 9)
SPACES = re.compile(" +")
LATIN_LOOKALIKES = frozenset("аАвВеЕһҺіІјЈкКмМнНоОрРсСтТуУхХѕЅԁԛԝ")
ASCII_RUN_OR_CHAR = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]", re.DOTALL)
# ASCII whitespace (``str.isspace``) that collapsing changes: a run at the start of a
# piece (the output may already end in whitespace), any run of two or more, and any
# single character other than a space or newline
ASCII_SPACE_RUN = re.compile(
    r"^[\t\n\x0b\x0c\r\x1c-\x1f ]+|[\t\n\x0b\x0c\r\x1c-\x1f ]{2,}|[\t\x0b\x0c\r\x1c-\x1f]"
)
LOOKALIKE = re.compile("[" + "".join(sorted(LATIN_LOOKALIKES)) + "\u0370-\u03ff]")


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


# Stage 1 and the classifier's span finder normalise the same text in one scan; a
# structured text's prose and the text itself are both normalised by stage 1.
@lru_cache(maxsize=2)
def normalise(text: str) -> Normalised:
    if text.isascii():
        return _normalise_ascii(text)
    chars: list[str] = []
    index: list[int] = []
    zero_width: list[int] = []
    bidi: list[int] = []
    tags: list[int] = []
    # ASCII runs (most of a mostly-English text) are lowercased and whitespace-collapsed
    # a run at a time; only the non-ASCII characters take the per-character path.
    for run in ASCII_RUN_OR_CHAR.finditer(text):
        position = run.start()
        if run.end() - position > 1 or text[position].isascii():
            _ascii_run(run.group().lower(), position, chars, index)
            continue
        ch = text[position]
        if ch in ZERO_WIDTH:
            if not (ch == "\u200d" and _emoji_joiner(text, position)):
                zero_width.append(position)
            continue
        if ch in BIDI:
            bidi.append(position)
            continue
        if ch in MARKS:
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
            _append(out, position, chars, index)
    return Normalised(
        "".join(chars),
        tuple(index),
        tuple(zero_width),
        tuple(bidi),
        tuple(tags),
        _mixed_script_words(text),
    )


def _append(out: str, position: int, chars: list[str], index: list[int]) -> None:
    """One output character; a whitespace run collapses to one space, or newline if any."""
    if out.isspace():
        if chars and chars[-1][-1] in " \n":  # pieces may be longer than one character
            if out == "\n":
                chars[-1] = chars[-1][:-1] + "\n"
            return
        out = "\n" if out == "\n" else " "
    chars.append(out)
    index.append(position)


def _ascii_run(lowered: str, offset: int, chars: list[str], index: list[int]) -> None:
    """``_append`` for every character of a lowercased ASCII run, a piece at a time."""
    position = 0
    for space in ASCII_SPACE_RUN.finditer(lowered):
        start = space.start()
        if start > position:
            chars.append(lowered[position:start])
            index.extend(range(offset + position, offset + start))
        if chars and chars[-1][-1] in " \n":
            if "\n" in space.group():
                chars[-1] = chars[-1][:-1] + "\n"
        else:
            chars.append("\n" if "\n" in space.group() else " ")
            index.append(offset + start)
        position = space.end()
    if position < len(lowered):
        chars.append(lowered[position:])
        index.extend(range(offset + position, offset + len(lowered)))


def _normalise_ascii(text: str) -> Normalised:
    lowered = text.lower()
    runs = _whitespace_runs(lowered)
    if not runs:
        return Normalised(lowered, None, (), (), (), ())
    chars: list[str] = []
    index: list[int] = []
    position = 0
    for start, end in runs:
        chars.append(lowered[position:start])
        index.extend(range(position, start))
        chars.append("\n" if "\n" in lowered[start:end] else " ")
        index.append(start)
        position = end
    chars.append(lowered[position:])
    index.extend(range(position, len(lowered)))
    return Normalised("".join(chars), tuple(index), (), (), (), ())


def _whitespace_runs(text: str) -> list[tuple[int, int]]:
    """The spans ``WHITESPACE_RUN.finditer`` gives on ASCII ``text``, found with ``str.find``.

    A regex tries every position; here only whitespace pairs and the four rare
    characters are searched for, at C speed.
    """
    spaced = text.translate(ASCII_WHITESPACE_TO_SPACE)
    runs = []
    found = spaced.find("  ")
    while found != -1:  # a pair found after the last run starts a new run
        end = SPACES.match(spaced, found).end()  # type: ignore[union-attr]  # always matches
        runs.append((found, end))
        found = spaced.find("  ", end)
    singles = [
        (position, position + 1)
        for ch in "\t\r\x0b\x0c"
        for position in _positions(text, ch)
        if spaced[position - 1 : position] != " " and spaced[position + 1 : position + 2] != " "
    ]
    return sorted(runs + singles) if singles else runs


def _positions(text: str, ch: str) -> list[int]:
    out = []
    found = text.find(ch)
    while found != -1:
        out.append(found)
        found = text.find(ch, found + 1)
    return out


def _emoji_joiner(text: str, position: int) -> bool:
    before = text[position - 1] if position > 0 else ""
    after = text[position + 1] if position + 1 < len(text) else ""
    return any(c and (ord(c) > 0x2000 and not c.isalpha()) for c in (before, after))


def _mixed_script_words(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of words mixing Latin letters with Cyrillic or Greek look-alikes."""
    if not LOOKALIKE.search(text):  # no look-alike letter: no mixed word
        return ()
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
