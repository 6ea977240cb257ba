"""Finding the rules that can match an action without scanning every rule.

Exact actions sit in a dict; patterns ending in a rest wildcard (``read:*``)
sit in a dict keyed by their literal prefix; other patterns (``*:email``) sit
in buckets keyed by segment count. The candidate tuple for an action is
memoized, so a repeated action costs one dict lookup.

A folded index (``fold=True``) matches without regard to case: its patterns
and the actions looked up are case-folded. Rules that hold a call (deny,
approval) and limits are looked up there too, so ``Delete:files`` cannot slip
past a rule on ``delete:*`` that an author wrote in one case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Generic, TypeVar

from proctor.model.actions import ActionPattern

T = TypeVar("T")
MEMO_LIMIT = 65_536


class ActionIndex(Generic[T]):
    """Maps an action to the items whose patterns match it, in insertion order."""

    __slots__ = (
        "_by_prefix",
        "_exact",
        "_fallback_exact",
        "_fallback_rest",
        "_fold",
        "_memo",
        "_prefix_lengths",
    )

    def __init__(
        self, entries: Iterable[tuple[ActionPattern, int, T]], *, fold: bool = False
    ) -> None:
        self._fold = fold
        if fold:
            entries = ((folded(pattern), order, item) for pattern, order, item in entries)
        exact: dict[str, list[tuple[int, T]]] = defaultdict(list)
        by_prefix: dict[tuple[str, ...], list[tuple[int, T]]] = defaultdict(list)
        fallback_exact: dict[int, list[tuple[int, ActionPattern, T]]] = defaultdict(list)
        fallback_rest: list[tuple[int, ActionPattern, T]] = []
        for pattern, order, item in entries:
            if pattern.is_exact:
                exact[str(pattern)].append((order, item))
            elif pattern.has_rest and pattern.segments.count("*") == 1:
                by_prefix[pattern.segments[:-1]].append((order, item))
            elif pattern.has_rest:
                fallback_rest.append((order, pattern, item))
            else:
                fallback_exact[len(pattern.segments)].append((order, pattern, item))
        self._exact = dict(exact)
        self._by_prefix = dict(by_prefix)
        self._prefix_lengths = sorted({len(prefix) for prefix in by_prefix})
        self._fallback_exact = dict(fallback_exact)
        self._fallback_rest = fallback_rest
        self._memo: dict[str, tuple[T, ...]] = {}

    def candidates(self, action: str) -> tuple[T, ...]:
        found = self._memo.get(action)
        if found is None:
            found = self.lookup(action)
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[action] = found
        return found

    def lookup(self, action: str) -> tuple[T, ...]:
        """``candidates`` without the memo, for a caller that keeps its own."""
        if self._fold:
            action = action.casefold()
        parts = tuple(action.split(":"))
        hits: list[tuple[int, T]] = list(self._exact.get(action, ()))
        for length in self._prefix_lengths:
            if length >= len(parts):
                break
            hits.extend(self._by_prefix.get(parts[:length], ()))
        for order, pattern, item in self._fallback_exact.get(len(parts), ()):
            if pattern.matches_segments(parts):
                hits.append((order, item))
        for order, pattern, item in self._fallback_rest:
            if pattern.matches_segments(parts):
                hits.append((order, item))
        hits.sort(key=lambda hit: hit[0])
        # an item entered under two patterns that both match is still one candidate
        unique: dict[int, T] = {}
        for order, item in hits:
            unique.setdefault(order, item)
        return tuple(unique.values())


def folded(pattern: ActionPattern) -> ActionPattern:
    """``pattern`` with its literal segments case-folded (``*`` folds to itself)."""
    return ActionPattern(tuple(segment.casefold() for segment in pattern.segments))
