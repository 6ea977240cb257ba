"""The regression check of a bench: which figures moved more than 10 % since the previous file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

THRESHOLD = 0.10


def moved(
    previous: Mapping[str, Mapping[str, Any]] | None,
    current: Mapping[str, Mapping[str, Any]],
    figures: Sequence[str],
    threshold: float = THRESHOLD,
) -> list[str] | None:
    """``key figure: old → new (±x %)`` for each figure that moved past ``threshold``.

    None when the previous results hold none of these figures (nothing to
    compare); figures present on one side only are not compared.
    """
    if not isinstance(previous, Mapping):
        return None
    lines: list[str] = []
    compared = 0
    for key, entry in current.items():
        before = previous.get(key)
        if not isinstance(before, Mapping):
            continue
        for figure in figures:
            old, new = before.get(figure), entry.get(figure)
            if not _number(old) or not _number(new) or old == 0:
                continue
            compared += 1
            change = new / old - 1
            if abs(change) > threshold:
                lines.append(f"{key} {figure}: {old:,} → {new:,} ({change:+.0%})")
    return lines if compared else None


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
