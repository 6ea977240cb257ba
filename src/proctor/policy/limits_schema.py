"""The shape of the ``limits:``, ``runs:`` and ``tiers:`` sections of a policy document.

A limit is a rate (``rate: 60/min``), a count (``max: 100, window: 1h``) or a
sum of a request value (``sum: args.amount, max: 500, window: 1d``), keyed by
any of ``user``, ``agent``, ``role``, ``tenant`` and ``action`` (``per:``).
Durations are a number and a unit: ``30s``, ``15m``, ``1h``, ``1d``, ``1w``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from proctor.model.limits import LIMIT_KEYS

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86_400,
    "day": 86_400,
    "w": 604_800,
    "week": 604_800,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*([a-z]+?)s?\s*$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(.+)$")
_PATH = re.compile(r"^(args|context)(\.[A-Za-z_][A-Za-z0-9_]*)+$")
MAX_WINDOW_SECONDS = 366 * 86_400


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LimitSpec(_Strict):
    id: str = Field(min_length=1, max_length=200)
    description: str | None = None
    action: str | list[str] = "*"
    rate: str | None = None
    sum: str | None = None
    max: float | None = Field(default=None, gt=0)
    window: str | None = None
    window_type: Literal["fixed", "sliding"] = "fixed"
    per: list[str] = Field(default_factory=list)
    reason: str | None = None

    @field_validator("per")
    @classmethod
    def _known_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if key not in LIMIT_KEYS:
                known = ", ".join(f"`{name}`" for name in LIMIT_KEYS)
                raise ValueError(f"a limit cannot count per `{key}`; use any of {known}")
        return value


class RunsSpec(_Strict):
    max_tool_calls: int | None = Field(default=None, gt=0)
    max_duration: str | None = None
    max_cost: float | None = Field(default=None, gt=0)
    cost: str = "context.cost"
    max_identical_calls: int | None = Field(default=None, gt=0)


class DemotionSpec(_Strict):
    to: str
    when_denials: int = Field(gt=0, le=1_000_000)
    window: str


class TierRuleSpec(_Strict):
    """``{id: noisy, demote: {to: unverified, when_denials: 5, window: 1h}}``."""

    id: str = Field(min_length=1, max_length=200)
    description: str | None = None
    demote: DemotionSpec


def parse_duration(text: str) -> float | None:
    """Seconds in ``text`` (``30s``, ``15m``, ``1h``, ``2d``, ``min``), or None if it is not one."""
    match = _DURATION.match(text.lower())
    if match is None or match.group(2) not in _UNITS:
        return None
    amount = float(match.group(1)) if match.group(1) else 1.0
    seconds = amount * _UNITS[match.group(2)]
    return seconds if 0 < seconds <= MAX_WINDOW_SECONDS else None


def parse_rate(text: str) -> tuple[float, float] | None:
    """``(count, window seconds)`` for ``60/min``, ``5/10s``; None if ``text`` is not a rate."""
    match = _RATE.match(text.lower())
    if match is None:
        return None
    window = parse_duration(match.group(2))
    count = float(match.group(1))
    return None if window is None or count <= 0 else (count, window)


def parse_value_path(text: str) -> tuple[str, ...] | None:
    """``("args", "amount")`` for ``args.amount``; None unless under ``args`` or ``context``."""
    return tuple(text.split(".")) if _PATH.match(text) else None
