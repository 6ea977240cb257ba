"""Window positions: fixed buckets aligned to the epoch, sliding overlap, reset phrases."""

from __future__ import annotations

from datetime import UTC, datetime

from proctor.limits.windows import FOREVER, describe_reset, position


def test_a_day_window_runs_midnight_to_midnight_utc() -> None:
    where = position(datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC), 86_400)
    assert datetime.fromtimestamp(where.start, UTC) == datetime(2026, 11, 24, tzinfo=UTC)
    assert where.resets_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert position(datetime(2026, 11, 25, tzinfo=UTC), 86_400).start == where.start + 86_400


def test_the_last_second_and_the_first_of_the_next_minute_are_apart() -> None:
    before = position(datetime(2026, 11, 24, 10, 0, 59, 999_999, tzinfo=UTC), 60)
    after = position(datetime(2026, 11, 24, 10, 1, tzinfo=UTC), 60)
    assert after.start - before.start == 60


def test_a_sliding_window_weighs_what_still_overlaps() -> None:
    at_start = position(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), 60, sliding=True)
    halfway = position(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC), 60, sliding=True)
    assert at_start.previous_weight == 1.0
    assert halfway.previous_weight == 0.5
    assert position(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC), 60).previous_weight == 0.0


def test_counters_that_never_reset() -> None:
    where = position(datetime(2026, 11, 24, tzinfo=UTC), FOREVER)
    assert where.start == 0
    assert where.resets_at is None
    assert describe_reset(where, False) == "it holds for the whole run"


def test_reset_phrases() -> None:
    where = position(datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC), 60)
    assert describe_reset(where, False) == "it resets at 2026-11-24T10:01:00Z"
    assert (
        describe_reset(where, True) == "capacity returns gradually, fully by 2026-11-24T10:02:00Z"
    )
