"""The built-in functions: what each accepts and how it runs.

`matches`, `contains`, `startswith` and `endswith` double as infix operators and
are compiled as such; `now` reads the request clock. Everything here is pure
and runs on plain values, so calls with constant arguments are folded at load.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from proctor.policy.expr.errors import type_error
from proctor.policy.expr.timevalues import parse_duration, parse_timestamp
from proctor.policy.expr.values import (
    ANY,
    BOOLEAN,
    LIST,
    MAP,
    NUMBER,
    TEXT,
    describe,
    is_number,
)

# Functions that are also infix operators: `f(a, b)` compiles as `a f b`.
OPERATOR_FUNCTIONS = frozenset({"contains", "matches", "startswith", "endswith"})
# Functions that read the request rather than only their arguments.
CONTEXT_FUNCTIONS = frozenset({"now"})
# Functions that read the path of their argument, not its value (`tainted(args.to)`).
PATH_FUNCTIONS = frozenset({"tainted", "injected"})


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    min_arguments: int
    max_arguments: int | None  # None: any number
    accepts: frozenset[str]  # static kinds every argument may have (ANY always passes)
    expects: str  # the accepted kinds, as messages say it
    returns: str
    run: Callable[..., Any]


def _text_function(name: str, transform: Callable[[str], str]) -> Callable[[Any], str]:
    def run(value: Any) -> str:
        if isinstance(value, str):
            return transform(value)
        raise type_error(f"`{name}` needs text, got {describe(value)}")

    return run


def _length(value: Any) -> int:
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise type_error(f"`len` needs text, a list or a map, got {describe(value)}")


def _absolute(value: Any) -> Any:
    if is_number(value):
        return abs(value)
    raise type_error(f"`abs` needs a number, got {describe(value)}")


def _round(value: Any) -> int:
    if not is_number(value):
        raise type_error(f"`round` needs a number, got {describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise type_error(f"cannot round {describe(value)}")
    rounded: int = round(value)
    return rounded


def _extreme(name: str, pick: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def run(*values: Any) -> Any:
        items = list(values)
        if len(items) == 1 and isinstance(items[0], list | tuple):
            items = list(items[0])
        if not items:
            raise type_error(f"`{name}` of an empty list")
        if all(is_number(item) for item in items) or all(isinstance(item, str) for item in items):
            return pick(items)
        raise type_error(f"`{name}` needs numbers or texts, not a mix or other values")

    return run


def _timestamp(value: Any) -> float:
    if isinstance(value, str):
        return parse_timestamp(value)
    raise type_error(f"`timestamp` needs text, got {describe(value)}")


def _duration(value: Any) -> float:
    if isinstance(value, str):
        return parse_duration(value)
    raise type_error(f"`duration` needs text, got {describe(value)}")


def _unreachable(*_: Any) -> Any:  # pragma: no cover - compiled specially
    raise AssertionError("compiled by the compiler")


_TEXT = frozenset({TEXT})
_NUMBER = frozenset({NUMBER})
_SIZED = frozenset({TEXT, LIST, MAP})
_ORDERED = frozenset({NUMBER, TEXT, LIST})

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("lower", 1, 1, _TEXT, "text", TEXT, _text_function("lower", str.lower)),
        FunctionSpec("upper", 1, 1, _TEXT, "text", TEXT, _text_function("upper", str.upper)),
        FunctionSpec("len", 1, 1, _SIZED, "text, a list or a map", NUMBER, _length),
        FunctionSpec("abs", 1, 1, _NUMBER, "a number", NUMBER, _absolute),
        FunctionSpec("round", 1, 1, _NUMBER, "a number", NUMBER, _round),
        FunctionSpec("min", 1, None, _ORDERED, "numbers or texts", ANY, _extreme("min", min)),
        FunctionSpec("max", 1, None, _ORDERED, "numbers or texts", ANY, _extreme("max", max)),
        FunctionSpec("timestamp", 1, 1, _TEXT, "text", NUMBER, _timestamp),
        FunctionSpec("duration", 1, 1, _TEXT, "text", NUMBER, _duration),
        FunctionSpec("now", 0, 0, frozenset(), "nothing", NUMBER, _unreachable),
        FunctionSpec("contains", 2, 2, frozenset(), "", ANY, _unreachable),
        FunctionSpec("matches", 2, 2, frozenset(), "", ANY, _unreachable),
        FunctionSpec("startswith", 2, 2, frozenset(), "", ANY, _unreachable),
        FunctionSpec("endswith", 2, 2, frozenset(), "", ANY, _unreachable),
        FunctionSpec("tainted", 1, 1, frozenset(), "an argument path", BOOLEAN, _unreachable),
        FunctionSpec("injected", 1, 1, frozenset(), "an argument path", BOOLEAN, _unreachable),
    )
}
