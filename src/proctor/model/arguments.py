"""Tool arguments as plain JSON values, within bounds.

Arguments arrive from agents and from tool signatures: they may hold objects
that JSON cannot carry, and they may be huge. ``normalize_arguments`` returns a
JSON-safe copy (other objects become their ``repr``) and refuses inputs past
the bounds, so every later stage (conditions, audit, hashing) works on bounded,
serializable data.

Exact numbers (``Decimal``, ``Fraction`` and integers beyond 2**53) are text in
that copy, because JSON consumers and RFC 8785 would lose their precision. The
policy conditions must still compare them as numbers: ``normalize_call_arguments``
also returns a copy that keeps them exact, made only when the call holds one.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

MAX_DEPTH = 32
MAX_ITEMS = 10_000
MAX_STRING = 1_048_576
MAX_TOTAL_CHARS = 4 * 1_048_576
MAX_INTEGER_BITS = 8192  # about 2,466 digits, within Python's int-to-text limit
MAX_EXPONENT = 4096  # a Decimal's exponent, so exact arithmetic on it stays small
_MAX_SAFE_INTEGER = 2**53 - 1


class ArgumentsRejected(ValueError):
    """Arguments outside the bounds; the message says which bound."""


class _Budget:
    __slots__ = ("chars", "exact", "items", "keep_exact")

    def __init__(self, *, keep_exact: bool = False) -> None:
        self.items = 0
        self.chars = 0
        self.keep_exact = keep_exact  # keep exact numbers as numbers (the evaluation copy)
        self.exact = False  # an exact number was met


def normalize_arguments(args: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON-safe copy of ``args`` (exact numbers as text), as records keep it."""
    return normalize_call_arguments(args)[0]


def normalize_call_arguments(
    args: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The JSON-safe copy of ``args`` and, when they hold exact numbers, the copy to evaluate.

    The second is None when the first serves both (no ``Decimal``, ``Fraction``
    or integer beyond 2**53 anywhere in ``args``).
    """
    if args is None:
        return {}, None
    if type(args) is not dict and not isinstance(args, Mapping):
        raise ArgumentsRejected("arguments must be a mapping of names to values")
    budget = _Budget()
    recorded = _mapping(args, 1, budget)
    if not budget.exact:
        return recorded, None
    return recorded, _mapping(args, 1, _Budget(keep_exact=True))


# Short ASCII text, safe integers, finite floats, None and booleans pass as they are,
# without a call per value: almost every argument is one of these (or a short list of
# them). Short strings directly in a mapping need no character count: MAX_ITEMS of them
# stay far below MAX_TOTAL_CHARS (in a list they are counted, as `_normalize` counts them).
_SHORT = 256
_MAX_FLOAT = sys.float_info.max  # NaN and the infinities are outside ±this


def _mapping(value: Mapping[Any, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    if len(value) > MAX_ITEMS:  # each entry counts one at least: refused before any copy
        raise ArgumentsRejected(f"arguments hold more than {MAX_ITEMS} values")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str or not key.isascii():
            key = _key(key)
        kind = type(item)
        if (
            (kind is str and len(item) < _SHORT and item.isascii())
            or (kind is int and -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER)
            or item is None
            or kind is bool
            or (kind is float and -_MAX_FLOAT <= item <= _MAX_FLOAT)
        ):
            budget.items += 1
            out[key] = item
        elif (kind is list or kind is tuple) and depth < MAX_DEPTH:
            leaves = _leaves(item, budget)
            out[key] = leaves if leaves is not None else _normalize(item, depth + 1, budget)
        else:
            out[key] = _normalize(item, depth + 1, budget)
    if budget.items > MAX_ITEMS:
        raise ArgumentsRejected(f"arguments hold more than {MAX_ITEMS} values")
    return out


def _leaves(items: list[Any] | tuple[Any, ...], budget: _Budget) -> list[Any] | None:
    """A copy of a list of values that pass as they are, counted as `_normalize` counts it.

    None, with the budget untouched, for anything else or past a bound: the full walk
    then copies it, or says which bound it is past.
    """
    if len(items) > _SHORT:
        return None
    chars = 0
    for item in items:
        kind = type(item)
        if kind is str:
            if len(item) >= _SHORT or not item.isascii():
                return None
            chars += len(item)
        elif not (
            (kind is int and -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER)
            or item is None
            or kind is bool
            or (kind is float and -_MAX_FLOAT <= item <= _MAX_FLOAT)
        ):
            return None
    counted = budget.items + 1 + len(items)  # the list and each item, as `_normalize` counts
    chars += budget.chars
    if counted > MAX_ITEMS or chars > MAX_TOTAL_CHARS:
        return None
    budget.items = counted
    budget.chars = chars
    return list(items)


def _sequence(value: list[Any] | tuple[Any, ...], depth: int, budget: _Budget) -> list[Any]:
    if len(value) > MAX_ITEMS:  # each item counts one at least: refused before any copy
        raise ArgumentsRejected(f"arguments hold more than {MAX_ITEMS} values")
    return [_normalize(item, depth + 1, budget) for item in value]


def _normalize(value: Any, depth: int, budget: _Budget) -> Any:
    budget.items += 1
    if budget.items > MAX_ITEMS:
        raise ArgumentsRejected(f"arguments hold more than {MAX_ITEMS} values")
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
            return value
        if value.bit_length() > MAX_INTEGER_BITS:
            raise ArgumentsRejected(f"an argument number has more than {MAX_INTEGER_BITS} bits")
        # beyond 2**53 JSON consumers (and RFC 8785) lose precision: keep the digits as text
        budget.exact = True
        return value if budget.keep_exact else str(value)
    if kind is str:
        budget.chars += len(value)
        if len(value) > MAX_STRING or budget.chars > MAX_TOTAL_CHARS:
            raise ArgumentsRejected(f"argument text is longer than {MAX_STRING} characters")
        if not value.isascii():
            # lone surrogates cannot be encoded as UTF-8; replace them, keep the rest
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ArgumentsRejected("arguments cannot hold NaN or infinite numbers")
        return value
    if kind is dict or kind is list or kind is tuple:  # before the costlier checks below
        if depth > MAX_DEPTH:
            raise ArgumentsRejected(f"arguments are nested deeper than {MAX_DEPTH} levels")
        return _mapping(value, depth, budget) if kind is dict else _sequence(value, depth, budget)
    if isinstance(value, Decimal | Fraction):
        return _exact_number(value, budget)
    if depth > MAX_DEPTH:
        raise ArgumentsRejected(f"arguments are nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        return _mapping(value, depth, budget)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_normalize(item, depth + 1, budget) for item in items]
    if isinstance(value, Enum):
        return _normalize(value.value, depth, budget)
    if isinstance(value, memoryview):  # its repr names an address, not the bytes it holds
        if value.nbytes > MAX_STRING:
            raise ArgumentsRejected(f"argument text is longer than {MAX_STRING} characters")
        return _normalize(repr(value.tobytes()), depth, budget)
    if isinstance(value, bool | int | float):  # subclasses of the plain types
        return _normalize(type(value).__mro__[-2](value), depth, budget)
    if isinstance(value, str):
        return _normalize(str.__str__(value), depth, budget)
    try:
        text = repr(value)
    except Exception as exc:  # the call cannot be recorded or scanned: refuse it
        raise ArgumentsRejected(
            f"an argument of type `{type(value).__name__}` cannot be read as text"
        ) from exc
    return _normalize(text, depth, budget)


def _exact_number(value: Decimal | Fraction, budget: _Budget) -> Decimal | Fraction | str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ArgumentsRejected("arguments cannot hold NaN or infinite numbers")
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > MAX_EXPONENT:
            raise ArgumentsRejected(f"an argument number has an exponent beyond {MAX_EXPONENT}")
        if len(value.as_tuple().digits) * 4 > MAX_INTEGER_BITS:
            raise ArgumentsRejected(f"an argument number has more than {MAX_INTEGER_BITS} bits")
    elif max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_INTEGER_BITS:
        raise ArgumentsRejected(f"an argument number has more than {MAX_INTEGER_BITS} bits")
    budget.exact = True
    return value if budget.keep_exact else str(value)


def _key(key: Any) -> str:
    try:
        text = key if type(key) is str else str(key)
    except Exception as exc:  # the call cannot be recorded or scanned: refuse it
        raise ArgumentsRejected(
            f"an argument name of type `{type(key).__name__}` cannot be read as text"
        ) from exc
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")
