"""Lines of a region of a text, with their offsets, and a sample to judge a shape by."""

from __future__ import annotations

from collections.abc import Callable, Iterator

SAMPLE_LINES = 20
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


def share_at_least(lines_: list[str], test: Callable[[str], object], fraction: float) -> bool:
    """Whether ``test`` (a compiled pattern's ``match``) holds for ``fraction`` of ``lines_``;
    stops as soon as the answer is known."""
    if not lines_:
        return False
    needed = fraction * len(lines_)
    allowed_misses = len(lines_) - needed
    hits = misses = 0
    for line in lines_:
        if test(line):
            hits += 1
            if hits >= needed:
                return True
        else:
            misses += 1
            if misses > allowed_misses:
                return False
    return hits >= needed
