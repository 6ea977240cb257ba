"""The result of compiling an expression: closures ready to run on many requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proctor.policy.context import EvalContext

Evaluator = Callable[[EvalContext], Any]
Test = Callable[[EvalContext], bool]


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """An expression compiled once at load time.

    ``evaluate(ctx)`` returns the expression's value; ``test(ctx)`` returns it
    when it is a boolean and raises ``EvaluationError`` (``type_error``)
    otherwise. Both raise ``EvaluationError`` when the request lacks a path or
    holds a value of the wrong kind. They are the compiled closures themselves,
    not methods, so a call costs no extra frame.

    ``paths`` holds the request paths the expression reads (`args.amount`,
    `time.hour`); a computed index ends the path (`args.items[args.i]` reads
    `args.items` and `args.i`).
    """

    source: str
    node_count: int
    paths: frozenset[str]
    evaluate: Evaluator = field(compare=False)
    test: Test = field(compare=False)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"
