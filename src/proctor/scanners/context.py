"""Context words: the words just before a match that make it more or less likely real."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContextWords:
    """Words that raise (``boost``) or lower (``damp``) a score when found near a match."""

    raise_words: tuple[str, ...] = ()
    lower_words: tuple[str, ...] = ()
    window: int = 48
    boost: float = 0.15
    damp: float = 0.3

    def near(self, lowered: str, start: int, end: int) -> tuple[str | None, str | None]:
        """The first raising and lowering word found around ``[start, end)``."""
        before = lowered[max(0, start - self.window) : start]
        after = lowered[end : end + self.window // 2]
        around = before + " " + after
        up = next((w for w in self.raise_words if w in around), None)
        down = next((w for w in self.lower_words if w in before), None)
        return up, down

    def adjust(self, score: float, lowered: str, start: int, end: int) -> tuple[float, str]:
        """The score moved by context, and a note saying which words moved it."""
        up, down = self.near(lowered, start, end)
        notes = []
        if up is not None:
            score += self.boost
            notes.append(f"context `{up}`")
        if down is not None:
            score -= self.damp
            notes.append(f"context `{down}` lowers")
        return min(max(score, 0.0), 1.0), "; ".join(notes)


def join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
