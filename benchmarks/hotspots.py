"""Where proctor's time goes: cProfile over the engine and over the full check path.

Run when a target is missed, so the engine owners see which functions to fix.
cProfile inflates short Python calls, so the shares matter more than the
absolute numbers; ``per_decision_us`` divides each function's time by the
number of decisions profiled.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parents[1])


@dataclass(frozen=True, slots=True)
class Hotspot:
    function: str  # file:line:function, relative to the repository when inside it
    calls: int
    own_us_per_decision: float  # tottime / decisions
    cumulative_us_per_decision: float  # cumtime / decisions
    own_share: float  # of the profiled total

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile_calls(
    fn: Callable[[Any], Any], inputs: list[Any], *, repeat: int = 1, top: int = 15
) -> tuple[list[Hotspot], float]:
    """The ``top`` functions by own time, and the profiled µs per decision."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        for value in inputs:
            fn(value)
    profiler.disable()
    decisions = len(inputs) * repeat
    stats = pstats.Stats(profiler)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values()) or 1e-12
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    spots = [
        Hotspot(
            function=_name(key),
            calls=int(entry[1]),
            own_us_per_decision=entry[2] / decisions * 1e6,
            cumulative_us_per_decision=entry[3] / decisions * 1e6,
            own_share=entry[2] / total,
        )
        for key, entry in rows
    ]
    return spots, total / decisions * 1e6


def _name(key: tuple[str, int, str]) -> str:
    file, line, function = key
    if file.startswith(_ROOT):
        file = file[len(_ROOT) + 1 :]
    elif "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    return f"{file}:{line}:{function}" if line else function
