"""Decision ids: UUIDv7 text, time-ordered, unique within and across milliseconds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from proctor.clock import DecisionIds, ManualClock

NOW = datetime(2026, 5, 9, 7, 35, 25, 123456, tzinfo=UTC)


def _reference(millis: int, counter: int, chunk: bytes) -> str:
    """The RFC 9562 §5.7 layout computed as one 128-bit number."""
    tail = int.from_bytes(chunk, "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | tail
    return str(uuid.UUID(int=value))


def test_ids_are_the_rfc9562_layout_of_time_counter_and_random_bits() -> None:
    pool = bytes(range(256)) * 16
    ids = DecisionIds(ManualClock(NOW), random=lambda size: pool[:size])
    millis = int(NOW.timestamp() * 1000)
    made = [ids() for _ in range(600)]  # past one pool of 512
    expected = [_reference(millis, n, pool[(n % 512) * 8 : (n % 512) * 8 + 8]) for n in range(600)]
    assert made == expected
    parsed = uuid.UUID(made[0])
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_sort_by_time_and_stay_unique_when_the_clock_goes_back() -> None:
    clock = ManualClock(NOW)
    ids = DecisionIds(clock)
    made = [ids()]
    for step in (5, -10):  # forward, then a clock stepped back: ids still go up
        clock.advance(milliseconds=step)
        made.append(ids())
    after = [ids() for _ in range(5000)]  # past the 4,096 a millisecond's counter holds
    assert [*made, *after] == sorted([*made, *after])
    assert len(set(after)) == len(after)
    assert all(uuid.UUID(text).version == 7 for text in after)


def test_every_counter_and_first_random_byte_keep_the_layout() -> None:
    # each id's first random byte takes all 256 values; 5,000 ids in one millisecond fill
    # its 4,096 counters and borrow the next one
    pool = bytes(byte for first in range(256) for byte in (first, 1, 2, 3, 4, 5, 6, 7)) * 2
    ids = DecisionIds(ManualClock(NOW), random=lambda size: pool[:size])
    millis = int(NOW.timestamp() * 1000)
    made = [ids() for _ in range(5000)]
    expected = [
        _reference(millis + n // 4096, n % 4096, pool[(n % 512) * 8 : (n % 512) * 8 + 8])
        for n in range(5000)
    ]
    assert made == expected
