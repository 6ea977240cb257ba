"""A compiled sub-expression: its closure, its static kind and, when known, its value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from proctor.policy.context import EvalContext
from proctor.policy.expr.compiled import Evaluator
from proctor.policy.expr.errors import EvaluationError, ExpressionSource
from proctor.policy.expr.nodes import Key, Node, Path
from proctor.policy.expr.values import (
    ANY,
    BOOLEAN,
    LIST,
    MAP,
    NULL,
    NUMBER,
    TEXT,
    describe,
    kind_of,
)

_NOT_CONSTANT: Any = object()
# Constant folding runs closures whose inputs are all constants: they never read it.
NO_CONTEXT = cast(EvalContext, None)
_A_KIND = {
    NUMBER: "a number",
    TEXT: "text",
    BOOLEAN: "a boolean",
    NULL: "null",
    LIST: "a list",
    MAP: "a map",
    ANY: "a value",
}


@dataclass(frozen=True, slots=True)
class Operand:
    evaluate: Evaluator
    kind: str  # a kind from ``values``; ANY when only known at run time
    node: Node
    constant: Any = _NOT_CONSTANT
    path: str | None = None  # the path text when the operand is a path
    # the key when the operand is `args.<key>`: a comparison then looks it up itself
    argument: str | None = None

    @property
    def is_constant(self) -> bool:
        return self.constant is not _NOT_CONSTANT

    def describe(self) -> str:
        """The operand as compile errors show it: its value, or its kind and path."""
        if self.is_constant:
            return describe(self.constant)
        if self.path is not None:
            return f"`{self.path}`" if self.kind == ANY else f"{self.kind} `{self.path}`"
        return a_kind(self.kind)


def a_kind(kind: str) -> str:
    return _A_KIND.get(kind, "a value")


def constant(value: Any, node: Node) -> Operand:
    def evaluate_constant(ctx: EvalContext) -> Any:
        return value

    return Operand(evaluate_constant, kind_of(value), node, value)


def fold(operand: Operand, source: ExpressionSource, offset: int) -> Operand:
    """``operand`` evaluated now: its inputs are constants. Errors become compile errors."""
    try:
        value = operand.evaluate(NO_CONTEXT)
    except EvaluationError as error:
        raise source.error("expr_type", error.message, offset) from None
    return constant(value, operand.node)


def is_tier_path(node: Node) -> bool:
    if not isinstance(node, Path) or node.root != "agent" or len(node.steps) != 1:
        return False
    step = node.steps[0]
    return isinstance(step, Key) and step.key == "tier"
