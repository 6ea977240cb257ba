"""Counting windows: which bucket a moment falls in, how much of the last one still counts.

Fixed windows are aligned to the Unix epoch, so every process and replica
agrees on the bucket without talking to the others: a ``1d`` window runs from
midnight to midnight UTC, a ``1h`` window from the top of the hour. A sliding
window is approximated with two fixed buckets (the "sliding window counter"):
``used = previous * overlap + current``, where ``overlap`` is the share of the
previous bucket still inside the last ``window`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FOREVER = 0  # window_seconds of a counter that never resets (a run's counters)


@dataclass(frozen=True, slots=True)
class WindowPosition:
    start: int  # epoch seconds of the current bucket
    seconds: int
    previous_weight: float  # 0.0 for fixed windows

    @property
    def resets_at(self) -> datetime | None:
        """When the current bucket ends (None for counters that never reset)."""
        if self.seconds == FOREVER:
            return None
        return datetime.fromtimestamp(self.start + self.seconds, UTC)


def position(now: datetime, seconds: int, *, sliding: bool = False) -> WindowPosition:
    """Where ``now`` falls in a window of ``seconds`` (``FOREVER``: one bucket for all time)."""
    if seconds == FOREVER:
        return WindowPosition(0, FOREVER, 0.0)
    epoch = now.timestamp()
    start = int(epoch // seconds) * seconds
    weight = 0.0
    if sliding:
        weight = max(0.0, 1.0 - (epoch - start) / seconds)
    return WindowPosition(start, seconds, weight)


def describe_reset(where: WindowPosition, sliding: bool) -> str:
    """A phrase for a denial: when capacity comes back."""
    reset = where.resets_at
    if reset is None:
        return "it holds for the whole run"
    if sliding:
        full = reset + timedelta(seconds=where.seconds)
        return f"capacity returns gradually, fully by {_iso(full)}"
    return f"it resets at {_iso(reset)}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
