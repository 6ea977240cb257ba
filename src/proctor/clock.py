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
    the random part is cut from a pool drawn (variant bits set, hex-encoded) 512 ids
    at a time.
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
        self._lock.acquire()  # not `with`: its enter and exit calls cost twice as much
        try:
            last = self._last_ms
            if millis <= last:  # keep ids monotonic within one millisecond
                millis = last
                counter = self._counter + 1
                if counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    millis = self._last_ms = last + 1
                    counter = 0
            else:
                self._last_ms = millis
                counter = 0
            self._counter = counter
            pool, offset = self._pool, self._offset
            if offset >= len(pool):  # one system call per 512 ids
                pool = self._pool = _with_variant(self._random(4096)).hex()
                offset = 0
            self._offset = offset + 16
            if millis != self._prefix_ms:
                self._prefix_ms = millis
                text = "%012x" % (millis & 0xFFFFFFFFFFFF)
                self._prefix = f"{text[:8]}-{text[8:]}-7"
            prefix = self._prefix
        finally:
            self._lock.release()
        return (
            f"{prefix}{_HIGH_DIGIT[counter >> 8]}{_LOW_DIGITS[counter & 0xFF]}"
            f"-{pool[offset : offset + 4]}-{pool[offset + 4 : offset + 16]}"
        )


def _with_variant(random: bytes) -> bytearray:
    """``random`` with the top two bits of each id's first byte set to the variant, 0b10
    (RFC 9562 §4.1): the hex digit that starts each id's random part is 8, 9, a or b."""
    pool = bytearray(random)
    pool[::8] = pool[::8].translate(_VARIANT)
    return pool


_VARIANT = bytes((byte & 0x3F) | 0x80 for byte in range(256))
# The counter's three hex digits, from two tables (a call to format them costs more).
_HIGH_DIGIT = tuple(f"{digit:x}" for digit in range(16))
_LOW_DIGITS = tuple(f"{pair:02x}" for pair in range(256))
