"""Errors of the condition expression language.

``ExpressionError`` is raised while compiling (a broken policy); codes:
``expr_syntax``, ``expr_unknown_root``, ``expr_unknown_field``,
``expr_unknown_function``, ``expr_arity``, ``expr_type``, ``expr_regex``,
``expr_too_large``.

``EvaluationError`` is raised while evaluating against one request; codes:
``missing_attribute``, ``type_error``, ``limit_exceeded``. The policy engine
catches it per rule: the rule does not match and the error becomes a diagnostic.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from proctor.errors import Location, ProctorError

EXPRESSION_BASE = Location("<expression>", 1, 1)


class ExpressionError(ProctorError):
    """An expression that cannot be compiled; ``location`` points at the offending token."""

    code = "expr_syntax"


class EvaluationError(ProctorError):
    """An expression that could not be evaluated against one request."""

    code = "type_error"


def missing(path: str) -> EvaluationError:
    return EvaluationError(f"`{path}` is missing", code="missing_attribute", details={"path": path})


def type_error(message: str) -> EvaluationError:
    return EvaluationError(message, code="type_error")


def limit_exceeded(message: str) -> EvaluationError:
    return EvaluationError(message, code="limit_exceeded")


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A hint naming the closest candidate, or listing them all when none is close."""
    options = sorted(set(candidates))
    by_lower = {option.lower(): option for option in options}
    if name.lower() in by_lower:
        return f"did you mean `{by_lower[name.lower()]}`?"
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{by_lower[close[0]]}`?"
    return "expected one of: " + ", ".join(options)


class ExpressionSource:
    """The text of one expression and where it starts in its file; makes located errors."""

    __slots__ = ("base", "text")

    def __init__(self, text: str, base: Location | None) -> None:
        self.text = text
        self.base = base or EXPRESSION_BASE

    def location(self, offset: int) -> Location:
        """File, line and column of character ``offset`` of the expression."""
        offset = max(0, min(offset, len(self.text)))
        base_line = self.base.line or 1
        base_column = self.base.column or 1
        newlines = self.text.count("\n", 0, offset)
        if newlines == 0:
            return Location(self.base.file, base_line, base_column + offset)
        line_start = self.text.rfind("\n", 0, offset) + 1
        return Location(self.base.file, base_line + newlines, offset - line_start + 1)

    def error(
        self,
        code: str,
        message: str,
        offset: int,
        *,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> ExpressionError:
        return ExpressionError(
            message,
            code=code,
            location=self.location(offset),
            hint=hint,
            details={"offset": offset, **(details or {})},
        )
