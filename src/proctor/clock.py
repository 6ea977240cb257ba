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
    """UUIDv7 strings (RFC 9562 §5.7): time-ordered, so audit ids sort by creation.

    48 bits of Unix milliseconds, the version, a 12-bit counter that keeps ids
    monotonic within one millisecond (``rand_a``, method 1 of §6.2), the
    variant and 62 random bits. Built on every check, so the text is put
    together from parts: the time's part is formatted once per millisecond and
    the random part is cut from a pool drawn (and hex-encoded) 512 ids at a time.
    """

    def __init__(
        self, clock: Clock = system_clock, random: Callable[[int], bytes] = os.urandom
    ) -> None:
        self._clock = clock
        self._random = random
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0
        self._pool = ""  # hex digits of random bytes, 16 per id
        self._offset = 0
        self._prefix_ms = -1
        self._prefix = ""

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
            counter = self._counter
            offset = self._offset
            if offset >= len(self._pool):  # one system call per 512 ids
                self._pool = self._random(4096).hex()
                offset = 0
            self._offset = offset + 16
            random = self._pool[offset : offset + 16]
            if millis != self._prefix_ms:
                self._prefix_ms = millis
                text = "%012x" % (millis & 0xFFFFFFFFFFFF)
                self._prefix = f"{text[:8]}-{text[8:]}-7"
            prefix = self._prefix
        # the variant's two bits (0b10) replace the top two bits of the random part
        return f"{prefix}{counter:03x}-{_VARIANT[random[0]]}{random[1:4]}-{random[4:]}"


# A hex digit with its top two bits set to 0b10 (RFC 9562 §4.1): 8, 9, a or b.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
