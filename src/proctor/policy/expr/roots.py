"""What the compiler knows about the path roots: their kind and, when fixed, their fields.

The root names and the time fields come from ``proctor.policy.context``, the
module that builds them; a field added there is accepted here as a value of
unknown kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from proctor.policy.context import ROOTS, TIME_FIELDS
from proctor.policy.expr.values import ANY, LIST, MAP, NUMBER, TEXT

_TIME_KINDS = {
    "hour": NUMBER,
    "minute": NUMBER,
    "second": NUMBER,
    "weekday": NUMBER,
    "day": NUMBER,
    "month": NUMBER,
    "year": NUMBER,
    "epoch": NUMBER,
    "day_name": TEXT,
    "date": TEXT,
    "clock": TEXT,
    "iso": TEXT,
    "timezone": TEXT,
}


@dataclass(frozen=True, slots=True)
class RootSchema:
    kind: str  # MAP for the maps, TEXT for `action` and `resource`
    fields: Mapping[str, str] | None  # field name -> kind; None when any field may exist


_KNOWN: dict[str, RootSchema] = {
    "args": RootSchema(MAP, None),
    "user": RootSchema(MAP, None),
    "context": RootSchema(MAP, None),
    "time": RootSchema(MAP, {name: _TIME_KINDS.get(name, ANY) for name in TIME_FIELDS}),
    "agent": RootSchema(MAP, {"id": TEXT, "role": ANY, "tier": TEXT, "tags": LIST, "owner": ANY}),
    "run": RootSchema(
        MAP,
        {
            "id": TEXT,
            "tool_calls": NUMBER,
            "elapsed": NUMBER,
            "spend": NUMBER,
            "injection_seen": ANY,
            "findings": MAP,
        },
    ),
    "findings": RootSchema(MAP, None),
    "taint": RootSchema(MAP, None),
    "tool": RootSchema(MAP, None),
    "action": RootSchema(TEXT, {}),
    "resource": RootSchema(TEXT, {}),
}

ROOT_SCHEMAS: dict[str, RootSchema] = {
    name: _KNOWN.get(name, RootSchema(ANY, None)) for name in ROOTS
}
# Roots that are always a Mapping, so a first `.field` step can index them directly.
MAP_ROOTS = frozenset(name for name, schema in ROOT_SCHEMAS.items() if schema.kind == MAP)
