"""What a reader reads of a structured text: its prose, with a map back to the original.

A ``ProseView`` is the prose of a text (table cells, string values, comments,
body text) joined by newlines, and for every piece where it came from. A span
found in the prose maps back to the original text: exactly inside a piece
copied verbatim, to the whole piece inside one that was decoded (a JSON string
with escapes, HTML with entities), and exactly inside one spliced from several
slices of the original (a markdown paragraph without its link targets).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

SENTENCE_WORDS = 4


@dataclass(frozen=True, slots=True)
class Piece:
    """``text[start:end]`` of the original is at ``at`` in the prose; ``exact`` when copied.

    A spliced piece has ``slices``: for each slice of the original it joins, where the
    slice starts in the piece and in the original.
    """

    at: int
    start: int
    end: int
    exact: bool
    slices: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ProseView:
    """The prose of a text of ``shape``; ``pieces`` is None when it is the text itself."""

    shape: str
    text: str
    pieces: tuple[Piece, ...] | None = None

    def sentences(self, min_words: int = SENTENCE_WORDS) -> ProseView:
        """The pieces of at least ``min_words`` words: where an instruction can be.

        A cell, value or field of one to three words (a name, a date, an address, a
        status) is data, whatever words it holds; an order to a reader is a sentence.
        """
        if self.pieces is None:
            return self
        kept = [
            (piece, self.text[piece.at : _end(self, index)])
            for index, piece in enumerate(self.pieces)
            if len(self.text[piece.at : _end(self, index)].split()) >= min_words
        ]
        if len(kept) == len(self.pieces):
            return self
        parts: list[str] = []
        pieces: list[Piece] = []
        length = 0
        for piece, content in kept:
            if parts:
                parts.append("\n")
                length += 1
            pieces.append(Piece(length, piece.start, piece.end, piece.exact, piece.slices))
            parts.append(content)
            length += len(content)
        return ProseView(self.shape, "".join(parts), tuple(pieces))

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the prose's ``[start, end)``."""
        pieces = self.pieces
        if pieces is None:
            return start, end
        if not pieces:
            return 0, 0
        starts = [p.at for p in pieces]
        first = pieces[max(0, bisect_right(starts, start) - 1)]
        last = pieces[max(0, bisect_right(starts, max(start, end - 1)) - 1)]
        return _mapped(first, start, True), _mapped(last, end, False)


def _end(view: ProseView, index: int) -> int:
    """Where piece ``index`` of the view's text ends (the next one starts a newline later)."""
    assert view.pieces is not None
    return view.pieces[index + 1].at - 1 if index + 1 < len(view.pieces) else len(view.text)


def _mapped(piece: Piece, offset: int, opening: bool) -> int:
    if piece.slices:  # a closing offset belongs to the slice its last character is in
        inside = offset - piece.at - (0 if opening else 1)
        index = max(0, bisect_right([at for at, _ in piece.slices], inside) - 1)
        at, origin = piece.slices[index]
        mapped = origin + inside - at + (0 if opening else 1)
        return min(piece.end, max(piece.start, mapped))
    if piece.exact:
        return min(piece.end, max(piece.start, piece.start + offset - piece.at))
    return piece.start if opening else piece.end


class ProseBuilder:
    """Collects the pieces of a view, in order, each on its own line."""

    def __init__(self, original: str) -> None:
        self.original = original
        self._parts: list[str] = []
        self._pieces: list[Piece] = []
        self._length = 0

    def add(self, start: int, end: int, text: str | None = None) -> None:
        """The original's ``[start, end)``, as it is or (``text``) as it reads decoded."""
        exact = text is None
        if text is None:  # without the whitespace around it, so spans stay tight
            while start < end and self.original[start].isspace():
                start += 1
            while end > start and self.original[end - 1].isspace():
                end -= 1
        content = self.original[start:end] if text is None else text
        if not content.strip():
            return
        if self._parts:
            self._parts.append("\n")
            self._length += 1
        self._pieces.append(Piece(self._length, start, end, exact))
        self._parts.append(content)
        self._length += len(content)

    def splice(self, slices: list[tuple[int, int]]) -> None:
        """One piece joining ``slices`` (``(start, end)`` of the original, in order): a
        sentence read without the markup between its parts."""
        kept = [(start, end) for start, end in slices if end > start]
        if len(kept) == 1:
            self.add(*kept[0])
            return
        content = "".join(self.original[start:end] for start, end in kept)
        if not content.strip():
            return
        if self._parts:
            self._parts.append("\n")
            self._length += 1
        at, marks = 0, []
        for start, end in kept:
            marks.append((at, start))
            at += end - start
        self._pieces.append(Piece(self._length, kept[0][0], kept[-1][1], True, tuple(marks)))
        self._parts.append(content)
        self._length += len(content)

    def view(self, shape: str) -> ProseView:
        return ProseView(shape, "".join(self._parts), tuple(self._pieces))
