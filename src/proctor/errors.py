"""The root of every error proctor raises.

Each package has its own ``errors.py`` with subclasses; every error carries a
stable ``code``, a lowercase ``message`` without a final period, an optional
``location`` (file, line, column) and ``details`` for machines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a source file an error points (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column}


class ProctorError(Exception):
    """Base of all proctor errors: broken configuration or broken infrastructure.

    A denied call is never an exception from the engine; it is a ``Decision``.
    """

    code: str = "proctor_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        location: Location | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        if code is not None:
            self.code = code
        self.location = location
        self.hint = hint
        self.details = details or {}
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}error[{self.code}]: {self.message}{hint}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.location is not None:
            body["location"] = self.location.to_dict()
        if self.hint:
            body["hint"] = self.hint
        if self.details:
            body["details"] = self.details
        return body


class ErrorGroup(ProctorError):
    """Several errors found together (all errors of a file, reported at once)."""

    def __init__(self, errors: list[ProctorError], *, code: str = "invalid_policy") -> None:
        self.errors = errors
        first = errors[0] if errors else None
        count = len(errors)
        summary = f"{count} error{'s' if count != 1 else ''} found"
        super().__init__(summary, code=code, location=first.location if first else None)

    def render(self) -> str:
        return "\n".join(error.render() for error in getattr(self, "errors", []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [error.to_dict() for error in self.errors],
        }
