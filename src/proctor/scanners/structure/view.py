"""What a reader reads of a structured text: its prose, with a map back to the original.

A ``ProseView`` is the prose of a text (table cells, string values, comments,
body text) joined by newlines, and for every piece where it came from. A span
found in the prose maps back to the original text: exactly inside a piece
copied verbatim, to the whole piece inside one that was decoded (a JSON string
with escapes, HTML with entities).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Piece:
    """``text[start:end]`` of the original is at ``at`` in the prose; ``exact`` when copied."""

    at: int
    start: int
    end: int
    exact: bool


@dataclass(frozen=True, slots=True)
class ProseView:
    """The prose of a text of ``shape``; ``pieces`` is None when it is the text itself."""

    shape: str
    text: str
    pieces: tuple[Piece, ...] | None = None

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


def _mapped(piece: Piece, offset: int, opening: bool) -> int:
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

    def view(self, shape: str) -> ProseView:
        return ProseView(shape, "".join(self._parts), tuple(self._pieces))
