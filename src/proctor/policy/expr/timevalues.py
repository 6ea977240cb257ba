"""Parsing of time literals: ISO 8601 timestamps and durations such as `1h30m`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from proctor.policy.expr.errors import type_error
from proctor.policy.expr.values import shorten

_MAX_LITERAL_LENGTH = 64
_DURATION = re.compile(r"(?:\d{1,9}(?:\.\d{1,9})?(?:ms|d|h|m|s))+")
_DURATION_PART = re.compile(r"(\d{1,9}(?:\.\d{1,9})?)(ms|d|h|m|s)")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def epoch_seconds(moment: datetime) -> float:
    """Seconds since the Unix epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_timestamp(text: str) -> float:
    """`2026-01-01T00:00:00Z` (ISO 8601) as epoch seconds; no offset means UTC."""
    if len(text) <= _MAX_LITERAL_LENGTH:
        try:
            return epoch_seconds(datetime.fromisoformat(text))
        except (ValueError, OverflowError):
            pass
    raise type_error(f"`{shorten(text)}` is not an ISO 8601 time such as `2026-01-01T00:00:00Z`")


def parse_duration(text: str) -> float:
    """`1h30m` as seconds; units `d`, `h`, `m`, `s`, `ms`."""
    compact = text.strip()
    if len(compact) <= _MAX_LITERAL_LENGTH and _DURATION.fullmatch(compact):
        return sum(
            float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(compact)
        )
    raise type_error(f"`{shorten(text)}` is not a duration such as `1h30m` (units: d, h, m, s, ms)")
