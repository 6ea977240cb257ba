"""Compiling the binary operators: static kind checks, tiers, regexes and fast closures.

The closures for a comparison with a constant (`args.amount <= 100`) test the
common value type inline and fall back to the checked operator otherwise:
that is the path every tool call takes. When the compared value is
`args.<key>`, the closure looks the key up itself, one dict lookup instead of a
call to the path's reader; anything but a plain hit (a missing key, arguments
that are not a map) goes through that reader, so the errors are its own. A
reader that raises the same lookup error again raises it as before.
"""

from __future__ import annotations

from typing import Any

from proctor.model.tiers import TIER_NAMES, Tier
from proctor.policy.context import EvalContext
from proctor.policy.expr.compiled import Evaluator
from proctor.policy.expr.errors import ExpressionSource, limit_exceeded, type_error
from proctor.policy.expr.nodes import Node
from proctor.policy.expr.operand import Operand, constant, fold, is_tier_path
from proctor.policy.expr.operators import BINARY, MIRRORED, ORDERINGS, contains
from proctor.policy.expr.regex import compile_regex
from proctor.policy.expr.values import (
    ANY,
    BOOLEAN,
    LIST,
    MAP,
    MAX_TEXT_LENGTH,
    NULL,
    NUMBER,
    TEXT,
    checked_equal,
    describe,
    is_number,
    shorten,
)

_TIER_RANKS = {tier.value: tier.rank for tier in Tier}
_EQUALITIES = ("==", "!=")
_MEMBERSHIPS = ("in", "not in", "contains")
_ARITHMETIC = ("+", "-", "*", "/", "%")
_NUMBER_TYPES = (int, float)


def compile_binary(
    operator: str,
    left: Operand,
    right: Operand,
    node: Node,
    operator_start: int,
    source: ExpressionSource,
) -> Operand:
    if operator == "matches":
        return _matches(left, right, node, source)
    comparing = operator in ORDERINGS or operator in _EQUALITIES
    if comparing and (is_tier_path(left.node) or is_tier_path(right.node)):
        return _tier_comparison(operator, left, right, node, source)
    if operator in ("in", "not in") and is_tier_path(left.node) and right.is_constant:
        right = _tier_list(right, source)
    _check_kinds(operator, left, right, source)
    result = Operand(_closure(operator, left, right), _result_kind(operator, left, right), node)
    if left.is_constant and right.is_constant:
        return fold(result, source, operator_start)
    return result


def _result_kind(operator: str, left: Operand, right: Operand) -> str:
    if operator not in _ARITHMETIC:
        return BOOLEAN
    if operator == "+" and TEXT in (left.kind, right.kind):
        return TEXT
    if operator == "+" and ANY in (left.kind, right.kind):
        return ANY
    return NUMBER


def _check_kinds(operator: str, left: Operand, right: Operand, source: ExpressionSource) -> None:
    """Reject, at load time, kinds the operator can never accept."""

    def fail(message: str, blamed: Operand, hint: str | None = None) -> None:
        raise source.error("expr_type", message, blamed.node.start, hint=hint)

    pair_known = ANY not in (left.kind, right.kind)
    mismatched = pair_known and left.kind != right.kind
    # Blame the literal, when there is one: it is what the author wrote wrong.
    blamed = left if left.is_constant and not right.is_constant else right
    if operator in ORDERINGS:
        message = f"cannot compare {left.describe()} with {right.describe()}"
        hint = "numbers compare with numbers, text with text"
        for operand in (left, right):
            if operand.kind not in (NUMBER, TEXT, ANY):
                fail(message, operand, hint)
        if mismatched:
            fail(message, blamed, hint)
    elif operator in _EQUALITIES:
        if mismatched and NULL not in (left.kind, right.kind):
            fail(f"{left.describe()} and {right.describe()} are never equal", blamed)
    elif operator in _MEMBERSHIPS:
        item, container = (right, left) if operator == "contains" else (left, right)
        message = f"cannot look for {item.describe()} in {container.describe()}"
        if container.kind not in (LIST, TEXT, MAP, ANY):
            fail(message, container)
        if container.kind == TEXT and item.kind not in (TEXT, ANY):
            fail(message, item)
    elif operator in ("startswith", "endswith"):
        for operand in (left, right):
            if operand.kind not in (TEXT, ANY):
                fail(f"`{operator}` needs text, got {operand.describe()}", operand)
    else:
        allowed = (NUMBER, TEXT, ANY) if operator == "+" else (NUMBER, ANY)
        message = f"cannot apply `{operator}` to {left.describe()} and {right.describe()}"
        for operand in (left, right):
            if operand.kind not in allowed:
                fail(message, operand)
        if mismatched:
            fail(message, blamed)
        if operator in ("/", "%") and right.is_constant and right.constant == 0:
            fail(f"division by zero in `{operator}`", right)


def _closure(operator: str, left: Operand, right: Operand) -> Evaluator:
    if operator in ORDERINGS or operator in _EQUALITIES:
        if left.is_constant and not right.is_constant:
            # `9 <= time.hour` runs as `time.hour >= 9`, to share the fast closures.
            operator, left, right = MIRRORED[operator], right, left
        if right.is_constant:
            if operator in ORDERINGS:
                return _ordering_with_constant(operator, left, right.constant)
            return _equality_with_constant(operator == "==", left, right.constant)
    if operator in ("in", "not in") and right.is_constant:
        texts = right.constant
        if isinstance(texts, tuple) and all(type(text) is str for text in texts):
            return _in_texts(operator == "in", left, texts)
    # `"vip" in args.tags`, `args.tags contains "vip"`: a text looked for in a read value
    if operator in ("in", "not in") and left.is_constant and type(left.constant) is str:
        return _holds_text(operator == "in", right, left.constant)
    if operator == "contains" and right.is_constant and type(right.constant) is str:
        return _holds_text(True, left, right.constant)
    function = BINARY[operator]
    read_left = left.evaluate
    if right.is_constant:
        value = right.constant

        def apply_to_constant(ctx: EvalContext) -> Any:
            return function(read_left(ctx), value)

        return apply_to_constant
    read_right = right.evaluate

    def apply(ctx: EvalContext) -> Any:
        return function(read_left(ctx), read_right(ctx))

    return apply


def _ordering_with_constant(operator: str, operand: Operand, bound: Any) -> Evaluator:
    compare = ORDERINGS[operator]
    checked = BINARY[operator]
    read, key = operand.evaluate, operand.argument
    if is_number(bound):

        def ordered_number(ctx: EvalContext) -> bool:
            try:  # `args.<key>` read here (see the module's docstring)
                value = read(ctx) if key is None else ctx.args[key]
            except (KeyError, TypeError, IndexError):
                value = read(ctx)  # not a plain argument: the path's reader says why
            kind = type(value)
            if kind is int or kind is float:
                return compare(value, bound)
            return bool(checked(value, bound))

        return ordered_number

    def ordered(ctx: EvalContext) -> bool:
        value = read(ctx)
        if type(value) is str:
            return compare(value, bound)
        return bool(checked(value, bound))

    return ordered


def _equality_with_constant(equal: bool, operand: Operand, expected: Any) -> Evaluator:
    # `(a == b) is equal` gives `==` when equal is True and `!=` when it is False.
    read, key = operand.evaluate, operand.argument
    if expected is None:  # `x == null` is the null test: any value may be asked

        def is_null(ctx: EvalContext) -> bool:
            return (read(ctx) is None) is equal

        return is_null
    fast_type = type(expected) if type(expected) in (str, int, float) else None
    number_fast = fast_type in (int, float)

    def equals_constant(ctx: EvalContext) -> bool:
        try:  # as in `ordered_number`
            value = read(ctx) if key is None else ctx.args[key]
        except (KeyError, TypeError, IndexError):
            value = read(ctx)
        if type(value) is fast_type or (number_fast and type(value) in _NUMBER_TYPES):
            return (value == expected) is equal
        return checked_equal(value, expected) is equal

    return equals_constant


def _in_texts(inside: bool, operand: Operand, texts: tuple[str, ...]) -> Evaluator:
    members = frozenset(texts)
    read, key = operand.evaluate, operand.argument

    def in_texts(ctx: EvalContext) -> bool:
        try:  # as in `ordered_number`
            value = read(ctx) if key is None else ctx.args[key]
        except (KeyError, TypeError, IndexError):
            value = read(ctx)
        if type(value) is str:
            return (value in members) is inside
        return contains(texts, value) is inside

    return in_texts


def _holds_text(inside: bool, operand: Operand, text: str) -> Evaluator:
    """``contains`` of a constant text, with a list of texts answered inline."""
    read, key = operand.evaluate, operand.argument

    def holds_text(ctx: EvalContext) -> bool:
        try:  # as in `ordered_number`
            container = read(ctx) if key is None else ctx.args[key]
        except (KeyError, TypeError, IndexError):
            container = read(ctx)
        if type(container) is list or type(container) is tuple:
            if text in container:
                return inside
            for element in container:
                if type(element) is not str:  # another kind may be an error: the full rules
                    return contains(container, text) is inside
            return not inside
        return contains(container, text) is inside

    return holds_text


def _tier_comparison(
    operator: str, left: Operand, right: Operand, node: Node, source: ExpressionSource
) -> Operand:
    """`agent.tier >= "trusted"`: compared by rank, the tier literal checked at load."""
    if is_tier_path(right.node):
        operator, left, right = MIRRORED[operator], right, left
    rank = _tier_rank(right, source)
    compare = ORDERINGS.get(operator)
    equal = operator == "=="
    read = left.evaluate

    def compare_tier(ctx: EvalContext) -> bool:
        value = read(ctx)
        actual = _TIER_RANKS.get(value) if type(value) is str else None
        if actual is None:
            raise type_error(f"`agent.tier` holds {describe(value)}, not a tier")
        if compare is not None:
            return compare(actual, rank)
        return (actual == rank) is equal

    return Operand(compare_tier, BOOLEAN, node)


def _tier_rank(operand: Operand, source: ExpressionSource) -> int:
    names = ", ".join(TIER_NAMES)
    if not operand.is_constant or not isinstance(operand.constant, str):
        raise source.error(
            "expr_type",
            f"`agent.tier` can only be compared with a tier name, not {operand.describe()}",
            operand.node.start,
            hint=f"expected one of: {names}",
        )
    try:
        return Tier.parse(operand.constant).rank
    except ValueError:
        raise source.error(
            "expr_type",
            f"unknown tier `{shorten(operand.constant)}`",
            operand.node.start,
            hint=f"expected one of: {names}",
        ) from None


def _tier_list(operand: Operand, source: ExpressionSource) -> Operand:
    """`agent.tier in ["trusted", "privileged"]`: every name checked and normalised."""
    if not isinstance(operand.constant, tuple):
        return operand
    normalised = tuple(
        TIER_NAMES[_tier_rank(Operand(operand.evaluate, TEXT, operand.node, name), source)]
        for name in operand.constant
    )
    return constant(normalised, operand.node)


def _matches(left: Operand, right: Operand, node: Node, source: ExpressionSource) -> Operand:
    """`text matches "regex"`: an RE2 search (linear time), the regex compiled at load."""
    if not right.is_constant or not isinstance(right.constant, str):
        message = f"the right side of `matches` must be a text literal, not {right.describe()}"
        raise source.error("expr_type", message, right.node.start, hint="write the regex in quotes")
    if left.kind not in (TEXT, ANY):
        message = f"`matches` needs text, got {left.describe()}"
        raise source.error("expr_type", message, left.node.start)
    search = compile_regex(right.constant, right.node.start, source)
    read = left.evaluate

    def matches(ctx: EvalContext) -> bool:
        text = read(ctx)
        if not isinstance(text, str):
            raise type_error(f"`matches` needs text, got {describe(text)}")
        if len(text) > MAX_TEXT_LENGTH:
            raise limit_exceeded(
                f"`matches` input is {len(text)} characters long, more than {MAX_TEXT_LENGTH}"
            )
        try:
            return search(text)
        except UnicodeEncodeError:
            raise type_error(f"text `{shorten(text)}` is not valid unicode") from None

    result = Operand(matches, BOOLEAN, node)
    return fold(result, source, node.start) if left.is_constant else result
