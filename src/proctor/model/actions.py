"""Action strings and action patterns, with their algebra.

An action is ``verb:resource`` (more ``:``-separated segments are allowed, e.g.
``call:github/create_issue``). A pattern is the same with ``*`` segments:

* a ``*`` that is not last matches exactly one segment (``*:email``);
* a ``*`` that is last matches the rest: one or more segments (``read:*``);
* ``*`` alone matches every action.

A segment is either a literal or ``*``; partial wildcards such as ``ord*`` are
rejected, which keeps intersection exact: the intersection of two patterns is
always one pattern or nothing.

A concrete action has no whitespace, no invisible character (control, format,
unassigned) and is in NFKC form, so no other spelling of a name (``ｄelete``,
``de\u200blete``) passes for a different action.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

WILDCARD = "*"
SEPARATOR = ":"
MAX_ACTION_LENGTH = 512
MAX_SEGMENTS = 16


class InvalidPattern(ValueError):
    """A pattern or action string that is not well formed."""


@dataclass(frozen=True, slots=True)
class ActionPattern:
    """A parsed action pattern; ``segments`` keeps ``*`` for wildcards."""

    segments: tuple[str, ...]

    @property
    def has_rest(self) -> bool:
        """True when the last segment is ``*`` and so matches one or more segments."""
        return self.segments[-1] == WILDCARD

    @property
    def is_exact(self) -> bool:
        return WILDCARD not in self.segments

    @property
    def literal_prefix(self) -> tuple[str, ...]:
        """The literal segments before the first wildcard."""
        prefix: list[str] = []
        for segment in self.segments:
            if segment == WILDCARD:
                break
            prefix.append(segment)
        return tuple(prefix)

    def matches(self, action: str) -> bool:
        return self.matches_segments(tuple(action.split(SEPARATOR)))

    def matches_segments(self, parts: tuple[str, ...]) -> bool:
        segments = self.segments
        if self.has_rest:
            fixed = segments[:-1]
            if len(parts) < len(segments):
                return False
        else:
            fixed = segments
            if len(parts) != len(segments):
                return False
        for expected, actual in zip(fixed, parts, strict=False):
            if expected != WILDCARD and expected != actual:
                return False
        return True

    def intersect(self, other: ActionPattern) -> ActionPattern | None:
        """The pattern matching exactly the actions both match, or None if none do."""
        longer, shorter = (
            (self, other) if len(self.segments) >= len(other.segments) else (other, self)
        )
        if not shorter.has_rest and len(longer.segments) != len(shorter.segments):
            return None  # an exact-length pattern cannot meet one of another length
        shorter_fixed = len(shorter.segments) - (1 if shorter.has_rest else 0)
        met: list[str] = []
        for index, segment in enumerate(longer.segments):
            if index < shorter_fixed:
                meet = _meet(segment, shorter.segments[index])
                if meet is None:
                    return None
                met.append(meet)
            else:
                met.append(segment)  # covered by the shorter pattern's trailing rest
        return ActionPattern(tuple(met))

    def covers(self, other: ActionPattern) -> bool:
        """True when every action ``other`` matches is matched by this pattern.

        The same as ``self.intersect(other) == other``, without building the
        intersection: scope sets compare every pair of their patterns.
        """
        mine, theirs = self.segments, other.segments
        if self.has_rest:
            if len(theirs) < len(mine):
                return False  # `other` matches actions shorter than this pattern's shortest
            fixed = mine[:-1]
        elif other.has_rest or len(theirs) != len(mine):
            return False  # `other` matches actions of a length this pattern never does
        else:
            fixed = mine
        return all(
            segment == WILDCARD or (segment == their and their != WILDCARD)
            for segment, their in zip(fixed, theirs, strict=False)
        )

    def __str__(self) -> str:
        return SEPARATOR.join(self.segments)


def _meet(left: str, right: str) -> str | None:
    if left == WILDCARD:
        return right
    if right == WILDCARD or left == right:
        return left
    return None


@lru_cache(maxsize=8192)
def parse_pattern(text: str) -> ActionPattern:
    """Parse an action pattern; raises ``InvalidPattern`` with a reason."""
    if not isinstance(text, str) or not text:
        raise InvalidPattern("an action pattern must be a non-empty string")
    if len(text) > MAX_ACTION_LENGTH:
        raise InvalidPattern(f"an action pattern is limited to {MAX_ACTION_LENGTH} characters")
    segments = tuple(text.split(SEPARATOR))
    spaced = text.split(maxsplit=1) != [text]  # whitespace somewhere: find the segment below
    if len(segments) > MAX_SEGMENTS:
        raise InvalidPattern(f"an action pattern has at most {MAX_SEGMENTS} segments")
    for segment in segments:
        if segment == "":
            raise InvalidPattern(f"`{text}` has an empty segment")
        if segment != WILDCARD and WILDCARD in segment:
            prefix = SEPARATOR.join(s for s in segments[: segments.index(segment)])
            suggestion = f"{prefix}{SEPARATOR}*" if prefix else "*"
            raise InvalidPattern(
                f"`{segment}` in `{text}` mixes `*` with text; a segment is a literal or `*`"
                f" (did you mean `{suggestion}`?)"
            )
        if spaced and any(char.isspace() for char in segment):
            raise InvalidPattern(f"`{text}` contains whitespace")
    return ActionPattern(segments)


def require_patterns(texts: Iterable[str]) -> None:
    """For a settings validator: a plain ``ValueError`` for the first text that is no pattern."""
    for text in texts:
        try:
            parse_pattern(text)
        except InvalidPattern as exc:
            raise ValueError(str(exc)) from None


def validate_action(action: str) -> str | None:
    """Why ``action`` is not a valid concrete action, or None when it is."""
    if not isinstance(action, str) or not action:
        return "the action must be a non-empty string"
    if len(action) > MAX_ACTION_LENGTH:
        return f"the action is longer than {MAX_ACTION_LENGTH} characters"
    segments = action.split(SEPARATOR)
    if len(segments) > MAX_SEGMENTS:
        return f"the action has more than {MAX_SEGMENTS} segments"
    if any(segment == "" for segment in segments):
        return f"`{action}` has an empty segment"
    if WILDCARD in action:
        return f"`{action}` is a pattern; a request names one concrete action"
    if any(char.isspace() for char in action):
        return f"`{action}` contains whitespace"
    if not action.isprintable():  # a control, format (zero-width, bidi) or unassigned character
        hidden = next(char for char in action if not char.isprintable())
        shown = repr(action)[1:-1]
        return f"`{shown}` contains U+{ord(hidden):04X}, a control or invisible character"
    if not action.isascii() and not unicodedata.is_normalized("NFKC", action):
        normal = unicodedata.normalize("NFKC", action)
        return f"`{action}` is not in NFKC form (a look-alike of `{normal}`)"
    return None
