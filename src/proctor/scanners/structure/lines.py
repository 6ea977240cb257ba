"""Lines of a region of a text, with their offsets, and a sample to judge a shape by."""

from __future__ import annotations

from collections.abc import Callable, Iterator

SAMPLE_LINES = 40
SAMPLE_WIDTH = 400  # shape tests read the start of a line: bounded work on a huge line


def lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of every line of ``text[start:end]``, newline excluded."""
    stop = len(text) if end is None else end
    position = start
    while position < stop:
        newline = text.find("\n", position, stop)
        if newline == -1:
            yield position, stop
            return
        yield position, newline
        position = newline + 1


def sample(text: str) -> list[str]:
    """The first non-blank lines (at most ``SAMPLE_LINES``) of ``text``."""
    out: list[str] = []
    for line in text.split("\n", SAMPLE_LINES * 4)[: SAMPLE_LINES * 4]:
        if line.strip():
            out.append(line[:SAMPLE_WIDTH])
            if len(out) == SAMPLE_LINES:
                break
    return out


def share(lines_: list[str], test: Callable[[str], object]) -> float:
    """The share of ``lines_`` for which ``test`` (a compiled pattern's ``match``) holds."""
    if not lines_:
        return 0.0
    return sum(1 for line in lines_ if test(line)) / len(lines_)
