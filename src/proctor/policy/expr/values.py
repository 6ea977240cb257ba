"""The value model: kinds of values, how they are named in messages, equality.

Values are what JSON gives plus tuples: null, booleans, numbers (int, float,
``Decimal`` and ``Fraction``, compared exactly; a boolean is not a number),
text, lists (list or tuple) and maps (any Mapping).

Equality between two values of different kinds is an error, not `false`
(``checked_equal``): `args.amount == 50000` with the text `"50000"` cannot be
answered, so a deny rule applies rather than quietly not matching. Comparing
with the `null` literal is the one way to ask whether a value is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from proctor.policy.expr.errors import limit_exceeded, type_error

# Static kinds, also the words used in messages.
NUMBER = "number"
TEXT = "text"
BOOLEAN = "boolean"
NULL = "null"
LIST = "list"
MAP = "map"
ANY = "value"  # unknown until evaluation

MAX_TEXT_LENGTH = 64 * 1024
MAX_COMPARE_DEPTH = 32
_NUMBER_TYPES = (int, float, Decimal, Fraction)


def is_number(value: Any) -> bool:
    kind = type(value)
    if kind is int or kind is float:
        return True
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


def kind_of(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return TEXT
    if kind is bool:
        return BOOLEAN
    if kind is int or kind is float:
        return NUMBER
    if value is None:
        return NULL
    if isinstance(value, str):
        return TEXT
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, _NUMBER_TYPES):
        return NUMBER
    if isinstance(value, list | tuple):
        return LIST
    if isinstance(value, Mapping):
        return MAP
    return ANY


def describe(value: Any) -> str:
    """A value as messages show it: kind, then the value in backticks when short."""
    kind = kind_of(value)
    if kind == TEXT:
        return f"text `{shorten(value)}`"
    if kind == NUMBER:
        if isinstance(value, int) and value.bit_length() > 64:
            return "a very large number"
        shown = str(value) if isinstance(value, Decimal | Fraction) else repr(value)
        return f"number `{shorten(shown)}`"
    if kind == BOOLEAN:
        return f"boolean `{'true' if value else 'false'}`"
    if kind == NULL:
        return "null"
    if kind == LIST:
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if kind == MAP:
        return "a map"
    return "a value of an unsupported kind"


def shorten(text: str, limit: int = 40) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("`", "'").replace("\n", "\\n")


def values_equal(left: Any, right: Any, depth: int = 0) -> bool:
    """`==`: numbers compare across int and float; a boolean equals only a boolean."""
    if left is right:
        return True
    left_kind, right_kind = kind_of(left), kind_of(right)
    if left_kind != right_kind:
        return False
    if left_kind in (TEXT, NUMBER):
        return bool(left == right)
    if left_kind == LIST:
        if len(left) != len(right):
            return False
        _check_depth(depth)
        return all(values_equal(a, b, depth + 1) for a, b in zip(left, right, strict=True))
    if left_kind == MAP:
        if len(left) != len(right):
            return False
        _check_depth(depth)
        for key, value in left.items():
            if key not in right or not values_equal(value, right[key], depth + 1):
                return False
        return True
    # Booleans and null are singletons (the identity test above); other objects differ.
    return False


def checked_equal(left: Any, right: Any) -> bool:
    """`==` in conditions: like ``values_equal``, but two kinds that differ are an error.

    A value compares with null only through the `null` literal (the compiler
    tests that by identity): a null argument is not quietly unequal to a text.
    """
    if kind_of(left) != kind_of(right):
        raise type_error(f"cannot compare {describe(left)} with {describe(right)}")
    return values_equal(left, right)


def _check_depth(depth: int) -> None:
    if depth >= MAX_COMPARE_DEPTH:
        raise limit_exceeded(f"values nested more than {MAX_COMPARE_DEPTH} deep cannot be compared")
