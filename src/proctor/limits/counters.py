"""Counter charges: what one call adds to which counter, and what the store answers.

A call that meets limits becomes a list of ``CounterCharge`` values; the
store applies them all or none in one atomic step (``CounterStore.charge``),
so concurrent calls can never overshoot a ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

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
    key = "|".join(["limit", definition.limit_id, *(f"{n}={v}" for n, v in parts)])
    label = f"limit `{definition.limit_id}`"
    if parts:
        label += " for " + ", ".join(f"{name} `{value}`" for name, value in parts)
    charge = CounterCharge(
        key,
        where.start,
        where.seconds,
        amount,
        definition.ceiling,
        where.previous_weight,
    )
    return PlannedCharge(charge, label, definition, where)


def key_part(name: str, request: CheckRequest) -> tuple[str, str]:
    value: Any
    if name == "user":
        value = request.user.sub if request.user is not None else "-"
    elif name == "agent":
        value = request.agent.id
    elif name == "role":
        value = request.agent.role or "-"
    elif name == "tenant":
        claims = request.user.claims if request.user is not None else {}
        value = claims.get("tenant", "-")
    else:
        value = request.action.casefold()  # one counter, whatever the case it is spelled in
    text = str(value).replace("|", "/")[:MAX_KEY_PART]
    return name, text


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
