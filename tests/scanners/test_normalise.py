"""Normalisation for injection patterns: hidden characters, look-alikes, offsets back."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from proctor.scanners.normalise import (
    BIDI,
    HOMOGLYPHS,
    MARKS,
    TAGS,
    WHITESPACE_RUN,
    ZERO_WIDTH,
    normalise,
)


def test_ascii_is_lowercased_and_whitespace_collapsed() -> None:
    norm = normalise("  Ignore   ALL\n\n previous\tinstructions")
    assert norm.text == " ignore all\nprevious instructions"
    start = norm.text.index("previous")
    assert norm.span(start, start + 8, 40) == (17, 25)


def test_plain_ascii_keeps_offsets() -> None:
    assert normalise("abc def").index is None


def test_hidden_characters_are_removed_and_recorded() -> None:
    norm = normalise("ig\u200bnore \u202eall")
    assert norm.text == "ignore all"
    assert norm.zero_width == (2,)
    assert norm.bidi == (8,)


def test_tag_characters_are_decoded() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "hi")
    norm = normalise("x" + hidden)
    assert norm.text == "xhi"
    assert norm.tags == (1, 2)


def test_look_alikes_and_full_width_fold_to_latin() -> None:
    assert normalise("Ignоre").text == "ignore"  # Cyrillic о
    assert normalise("ｉｇｎｏｒｅ").text == "ignore"
    assert normalise("Ignоre").mixed_script_words == ((0, 6),)
    assert normalise("русский text").mixed_script_words == ()


def test_emoji_joiners_are_not_hidden_text() -> None:
    assert normalise("👨\u200d👩").zero_width == ()


@given(st.text(max_size=200))
def test_every_normalised_span_maps_inside_the_original(text: str) -> None:
    norm = normalise(text)
    for start in range(len(norm.text)):
        first, last = norm.span(start, start + 1, len(text))
        assert 0 <= first < last <= len(text)


def _reference(text: str) -> tuple[str, tuple[int, ...]]:
    """Normalisation one character at a time: what the faster paths must equal."""
    chars: list[str] = []
    index: list[int] = []
    for position, ch in enumerate(text):
        if ch in ZERO_WIDTH or ch in BIDI or ch in MARKS:
            continue
        code = ord(ch)
        if code in TAGS:
            if not 0xE0020 <= code <= 0xE007E:
                continue
            ch = chr(code - 0xE0000)
        folded = unicodedata.normalize("NFKC", ch) if code > 0x7F else ch
        for out in folded.translate(HOMOGLYPHS).lower():
            if out.isspace():
                if chars and chars[-1] in " \n":
                    if out == "\n":
                        chars[-1] = "\n"
                    continue
                out = "\n" if out == "\n" else " "
            chars.append(out)
            index.append(position)
    return "".join(chars), tuple(index)


_MIXED = st.text(
    alphabet=st.sampled_from(
        list(
            " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003aZ9.\u200b\u202e\U000e0041\U000e0001аοＡﬁ①"
            "\u0336\u3164\u0640"
        )
    ),
    max_size=60,
)


@given(st.one_of(_MIXED, st.text(max_size=60)))
def test_non_ascii_text_normalises_as_one_character_at_a_time(text: str) -> None:
    if text.isascii():
        text += "é"
    norm = normalise(text)
    assert (norm.text, norm.index) == _reference(text)


_ASCII_SPACES = st.text(alphabet=st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1fab.")), max_size=60)


@given(_ASCII_SPACES)
def test_ascii_whitespace_runs_are_found_as_the_pattern_finds_them(text: str) -> None:
    norm = normalise(text)
    spans = [m.span() for m in WHITESPACE_RUN.finditer(text)]
    expected = text.lower()
    for start, end in reversed(spans):
        expected = expected[:start] + ("\n" if "\n" in text[start:end] else " ") + expected[end:]
    assert norm.text == expected
    assert (norm.index is None) == (not spans)
