"""Clocks and decision ids: the only place that reads the time or draws randomness.

Everything below the runtime takes the time as a value; tests pass a
``ManualClock`` and move it instead of sleeping.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the start time must carry a time zone")
        self._now = start

    def __call__(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class DecisionIds:
    """UUIDv7 strings (RFC 9562 §5.7): time-ordered, so audit ids sort by creation."""

    def __init__(
        self, clock: Clock = system_clock, random: Callable[[int], bytes] = os.urandom
    ) -> None:
        self._clock = clock
        self._random = random
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0
        self._pool = b""
        self._offset = 0

    def __call__(self, now: datetime | None = None) -> str:
        """A new id for a decision made at ``now`` (read from the clock when not given)."""
        millis = int((now or self._clock()).timestamp() * 1000)
        with self._lock:
            if millis <= self._last_ms:  # keep ids monotonic within one millisecond
                millis = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    millis = self._last_ms = millis + 1
                    self._counter = 0
            else:
                self._last_ms = millis
                self._counter = 0
            counter = self._counter & 0xFFF
            if self._offset >= len(self._pool):  # one system call per 512 ids
                self._pool = self._random(4096)
                self._offset = 0
            chunk = self._pool[self._offset : self._offset + 8]
            self._offset += 8
        tail = int.from_bytes(chunk, "big") & ((1 << 62) - 1)
        value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | tail
        text = "%032x" % value  # noqa: UP031 - measurably faster than format() here
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
