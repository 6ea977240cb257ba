"""Run-time semantics of the operators, on plain values.

Each function either returns the result or raises ``EvaluationError``; the
compiler wraps them in closures and calls them on constants to fold them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from proctor.policy.expr.errors import limit_exceeded, type_error
from proctor.policy.expr.values import (
    MAX_TEXT_LENGTH,
    checked_equal,
    describe,
    is_number,
    kind_of,
    values_equal,
)

BinaryFunction = Callable[[Any, Any], Any]

ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# `a < b` is `b > a`: used when the constant is on the left.
MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def ordering(symbol: str) -> BinaryFunction:
    compare = ORDERINGS[symbol]

    def ordered(left: Any, right: Any) -> bool:
        if (is_number(left) and is_number(right)) or (
            isinstance(left, str) and isinstance(right, str)
        ):
            return compare(left, right)
        raise type_error(f"cannot compare {describe(left)} with {describe(right)}")

    return ordered


def equal(left: Any, right: Any) -> bool:
    return checked_equal(left, right)


def not_equal(left: Any, right: Any) -> bool:
    return not checked_equal(left, right)


def contains(container: Any, item: Any) -> bool:
    """`container contains item`: a substring, a list element or a map key.

    In a list, an element equal to the item answers true; when none is, an
    element of another kind than the item (null aside) makes the answer an
    error rather than false: `["50000"]` is not known to hold no `50000`.
    """
    if isinstance(container, str):
        if not isinstance(item, str):
            raise type_error(f"cannot look for {describe(item)} in {describe(container)}")
        check_text_length(container, "contains")
        return item in container
    if isinstance(container, list | tuple):
        if type(item) is str and item in container:
            # Fast and exact for text: str equality never matches a non-text value.
            return True
        if any(values_equal(item, element) for element in container):
            return True
        _same_kinds(item, container)
        return False
    if isinstance(container, Mapping):
        if type(item) is str:
            return item in container
        raise type_error(f"cannot look for {describe(item)} among the keys of a map")
    raise type_error(f"cannot look for {describe(item)} in {describe(container)}")


def _same_kinds(item: Any, elements: list[Any] | tuple[Any, ...]) -> None:
    kind = kind_of(item)
    for element in elements:
        if element is not None and kind_of(element) != kind:
            raise type_error(
                f"cannot look for {describe(item)} in a list holding {describe(element)}"
            )


def member(item: Any, container: Any) -> bool:
    """`item in container`."""
    return contains(container, item)


def not_member(item: Any, container: Any) -> bool:
    return not contains(container, item)


def starts_with(text: Any, prefix: Any) -> bool:
    if isinstance(text, str) and isinstance(prefix, str):
        return text.startswith(prefix)
    raise type_error(f"cannot test whether {describe(text)} starts with {describe(prefix)}")


def ends_with(text: Any, suffix: Any) -> bool:
    if isinstance(text, str) and isinstance(suffix, str):
        return text.endswith(suffix)
    raise type_error(f"cannot test whether {describe(text)} ends with {describe(suffix)}")


def check_text_length(text: str, operation: str) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        raise limit_exceeded(
            f"`{operation}` input is {len(text)} characters long, more than {MAX_TEXT_LENGTH}"
        )


def add(left: Any, right: Any) -> Any:
    if is_number(left) and is_number(right):
        return _arithmetic(operator.add, left, right)
    if isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_TEXT_LENGTH:
            raise limit_exceeded(f"text built with `+` would be longer than {MAX_TEXT_LENGTH}")
        return left + right
    raise _cannot_apply("+", left, right)


def _numeric(symbol: str, function: BinaryFunction, *, divides: bool = False) -> BinaryFunction:
    def apply(left: Any, right: Any) -> Any:
        if not (is_number(left) and is_number(right)):
            raise _cannot_apply(symbol, left, right)
        if divides and right == 0:
            raise type_error(f"division by zero in `{symbol}`")
        return _arithmetic(function, left, right)

    return apply


def _arithmetic(function: BinaryFunction, left: Any, right: Any) -> Any:
    if type(left) is not type(right) and isinstance(left, Decimal) is not isinstance(
        right, Decimal
    ):
        # Decimal does not mix with float or Fraction; Fraction holds both exactly
        left, right = Fraction(left), Fraction(right)
    try:
        return function(left, right)
    except (OverflowError, ArithmeticError):
        raise limit_exceeded("number is too large") from None


def _cannot_apply(symbol: str, left: Any, right: Any) -> Exception:
    return type_error(f"cannot apply `{symbol}` to {describe(left)} and {describe(right)}")


def negate(value: Any) -> Any:
    if is_number(value):
        return -value
    raise type_error(f"cannot negate {describe(value)}")


def logical_not(value: Any) -> bool:
    if value is True or value is False:
        return not value
    raise type_error(f"`not` needs a boolean, got {describe(value)}")


BINARY: dict[str, BinaryFunction] = {
    **{symbol: ordering(symbol) for symbol in ORDERINGS},
    "==": equal,
    "!=": not_equal,
    "in": member,
    "not in": not_member,
    "contains": contains,
    "startswith": starts_with,
    "endswith": ends_with,
    "+": add,
    "-": _numeric("-", operator.sub),
    "*": _numeric("*", operator.mul),
    "/": _numeric("/", operator.truediv, divides=True),
    "%": _numeric("%", operator.mod, divides=True),
}
