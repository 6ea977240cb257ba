"""Scopes: sets of action patterns, and their symbolic intersection.

A scope is an action pattern (``read:*``, ``write:refund``). The effective
scopes of a call are the user's scopes intersected with the agent role's
scopes, computed on the patterns themselves: ``read:*`` ∩ ``*:orders`` =
``read:orders``. A concrete action is within a scope set when some pattern of
the set matches it; a pattern is covered when some pattern of the set covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from proctor.model.actions import ActionPattern, parse_pattern

_VERDICT_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class ScopeSet:
    """A minimal set of patterns: none covers another."""

    patterns: tuple[ActionPattern, ...]
    # answers of ``allows`` by action: scope sets are few and actions repeat
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _strings: tuple[str, ...] = field(default=(), compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_strings", tuple(str(pattern) for pattern in self.patterns))

    @classmethod
    def parse(cls, scopes: Iterable[str]) -> ScopeSet:
        """Parse scope strings; raises ``InvalidPattern`` for a malformed one.

        Sets repeat (a user's scopes on every check), and minimising 100 wildcard
        patterns costs ~11 ms, so parsed sets are kept, the most recent 1,024.
        """
        given = tuple(scopes)
        try:
            return _parsed(given)
        except TypeError:  # an unhashable entry: parsed (and refused) uncached
            return cls(_minimize(parse_pattern(scope) for scope in given))

    @classmethod
    def everything(cls) -> ScopeSet:
        return cls((parse_pattern("*"),))

    @property
    def is_empty(self) -> bool:
        return not self.patterns

    def allows(self, action: str) -> bool:
        """True when some pattern of the set matches the concrete ``action``."""
        verdict = self._verdicts.get(action)
        if verdict is None:
            parts = tuple(action.split(":"))
            verdict = any(pattern.matches_segments(parts) for pattern in self.patterns)
            if len(self._verdicts) >= _VERDICT_LIMIT:
                self._verdicts.clear()
            self._verdicts[action] = verdict
        return verdict

    def covers(self, pattern: ActionPattern) -> bool:
        """True when every action ``pattern`` matches is within the set.

        Exact only for a single covering pattern; a pattern split across several
        scopes (``read:a`` and ``read:b`` for ``read:*``) is never covered.
        """
        return any(scope.covers(pattern) for scope in self.patterns)

    def intersect(self, other: ScopeSet) -> ScopeSet:
        met = (left.intersect(right) for left in self.patterns for right in other.patterns)
        return ScopeSet(_minimize(pattern for pattern in met if pattern is not None))

    def to_strings(self) -> tuple[str, ...]:
        return self._strings

    def __str__(self) -> str:
        return ", ".join(self.to_strings()) or "(none)"


@lru_cache(maxsize=1024)
def _parsed(scopes: tuple[str, ...]) -> ScopeSet:
    return ScopeSet(_minimize(parse_pattern(scope) for scope in scopes))


def _minimize(patterns: Iterable[ActionPattern]) -> tuple[ActionPattern, ...]:
    """Keep the maximal patterns (none covered by another), sorted for a stable order.

    Only a pattern with a wildcard covers another one, so exact patterns are
    compared with the wildcard ones alone: hundreds of exact scopes cost little.
    """
    unique = set(patterns)
    wild = [pattern for pattern in unique if not pattern.is_exact]
    kept = [
        pattern
        for pattern in unique
        if not any(other is not pattern and other.covers(pattern) for other in wild)
    ]
    return tuple(sorted(kept, key=str))


def effective_scopes(user_scopes: ScopeSet | None, role_scopes: ScopeSet | None) -> ScopeSet:
    """User scopes ∩ role scopes; a missing side does not restrict."""
    if user_scopes is None and role_scopes is None:
        return ScopeSet.everything()
    if user_scopes is None:
        assert role_scopes is not None
        return role_scopes
    if role_scopes is None:
        return user_scopes
    return user_scopes.intersect(role_scopes)
