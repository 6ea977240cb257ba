"""Counter charges: what one call adds to which counter, and what the store answers.

A call that meets limits becomes a list of ``CounterCharge`` values; the
store applies them all or none in one atomic step (``CounterStore.charge``),
so concurrent calls can never overshoot a ceiling.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson

from proctor.limits.windows import WindowPosition, position
from proctor.model.counters import ChargeResult, CounterCharge, fits, tally
from proctor.model.limits import LimitDefinition
from proctor.model.request import CheckRequest

__all__ = [
    "ChargeResult",
    "CounterCharge",
    "InvalidAmount",
    "PlannedCharge",
    "fits",
    "key_part",
    "key_text",
    "number",
    "plan_limit",
    "read_amount",
    "tally",
]

MAX_KEY_PART = 200
LIMIT_EXCEEDED = "limit_exceeded"


@dataclass(frozen=True, slots=True)
class PlannedCharge:
    """A charge with what it came from, to explain a refusal."""

    charge: CounterCharge
    label: str  # `refund-budget` for user `alice`
    limit: LimitDefinition | None
    window: WindowPosition
    code: str = LIMIT_EXCEEDED  # the decision code when this charge is refused


class InvalidAmount(ValueError):
    """A summed value that is missing, not a number, or negative."""


def plan_limit(definition: LimitDefinition, request: CheckRequest) -> PlannedCharge:
    """The charge ``request`` makes against ``definition``; raises ``InvalidAmount``."""
    amount = 1.0
    if definition.sum_path is not None:
        amount = read_amount(request, definition.sum_path)
    where = position(request.now, definition.window_seconds, sliding=definition.sliding)
    parts = [key_part(name, request) for name in definition.key_by]
    key = "|".join(["limit", definition.limit_id, *(f"{n}={key_text(v)}" for n, v in parts)])
    label = f"limit `{definition.limit_id}`"
    if parts:
        label += " for " + ", ".join(f"{name} `{_shown(value)}`" for name, value in parts)
    charge = CounterCharge(
        key,
        where.start,
        where.seconds,
        amount,
        definition.ceiling,
        where.previous_weight,
    )
    return PlannedCharge(charge, label, definition, where)


def key_part(name: str, request: CheckRequest) -> tuple[str, Any]:
    """The value ``request`` has for a ``per:`` key; None when it has none (no user, role
    or tenant)."""
    if name == "user":
        return name, request.user.sub if request.user is not None else None
    if name == "agent":
        return name, request.agent.id
    if name == "role":
        return name, request.agent.role
    if name == "tenant":
        claims = request.user.claims if request.user is not None else {}
        return name, claims.get("tenant")
    return name, request.action.casefold()  # one counter, whatever the case it is spelled in


def key_text(value: Any) -> str:
    """``value`` as one part of a counter key, so that distinct values never share a counter.

    ``%`` and ``|`` (the key's separator) are escaped; an absent value is ``%-`` and
    one that is not text is ``%j`` and its JSON, neither of which an escaped text
    can spell; a text past ``MAX_KEY_PART`` keeps its start and its SHA-256.
    """
    if value is None:
        return "%-"
    kind, text = ("", value) if isinstance(value, str) else ("%j", _json(value))
    escaped = text.replace("%", "%25").replace("|", "%7C")
    if len(escaped) > MAX_KEY_PART:
        whole = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        escaped = f"{escaped[:100]}%h{whole}"
    return kind + escaped


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer past 64 bits
        return repr(value)


def _shown(value: Any) -> str:
    return "-" if value is None else str(value)[:MAX_KEY_PART]


def read_amount(request: CheckRequest, path: tuple[str, ...]) -> float:
    """The number at ``path`` (``args.amount``, ``context.cost``); raises ``InvalidAmount``."""
    root: Any = request.evaluated_args if path[0] == "args" else request.context
    value: Any = root
    for part in path[1:]:
        if not isinstance(value, Mapping) or part not in value:
            raise InvalidAmount(f"`{'.'.join(path)}` is missing")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise InvalidAmount(f"`{'.'.join(path)}` is not a number")
    try:
        amount = float(value)
    except OverflowError:
        raise InvalidAmount(f"`{'.'.join(path)}` is too large") from None
    if not math.isfinite(amount) or value < 0:
        raise InvalidAmount(f"`{'.'.join(path)}` is negative or not finite")
    return amount


def number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")
