"""What a scan returns: findings (type, span, score), never the matched text itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from proctor.scanners.errors import INVALID_DIRECTION, ScanError


class Direction(StrEnum):
    """``input``: tool arguments; ``output``: tool results (untrusted content)."""

    INPUT = "input"
    OUTPUT = "output"

    @classmethod
    def parse(cls, value: str | Direction) -> Direction:
        try:
            return cls(value)
        except ValueError:
            raise ScanError(
                f"unknown scan direction `{value}`; expected `input` or `output`",
                code=INVALID_DIRECTION,
            ) from None


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a scanner found: its type, character span, score in [0, 1] and scanner.

    ``detail`` says why (the rule, the validator, the context words); it never holds
    the matched value. ``path`` locates the finding inside nested tool arguments.
    """

    type: str
    start: int
    end: int
    score: float
    scanner: str
    detail: str = ""
    path: str | None = None

    @property
    def category(self) -> str:
        """The family of the type: ``pii`` for ``pii.email``, ``secret`` for ``secret.aws``."""
        return self.type.split(".", 1)[0]

    def shifted(self, offset: int) -> Finding:
        return Finding(
            self.type,
            self.start + offset,
            self.end + offset,
            self.score,
            self.scanner,
            self.detail,
            self.path,
        )

    def at_path(self, path: str) -> Finding:
        return Finding(self.type, self.start, self.end, self.score, self.scanner, self.detail, path)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 3),
            "scanner": self.scanner,
            "detail": self.detail,
        }
        if self.path is not None:
            body["path"] = self.path
        return body


@dataclass(frozen=True, slots=True)
class StageReport:
    """How one stage of the cascade went: ``ok``, ``skipped``, ``failed`` or ``over_budget``."""

    scanner: str
    status: str
    elapsed_ms: float
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanner": self.scanner,
            "status": self.status,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Findings sorted by position, plus how each stage went."""

    findings: tuple[Finding, ...]
    stages: tuple[StageReport, ...] = field(default=())

    def of_type(self, prefix: str) -> tuple[Finding, ...]:
        """Findings whose type is ``prefix`` or starts with ``prefix.``."""
        return tuple(
            f for f in self.findings if f.type == prefix or f.type.startswith(prefix + ".")
        )

    def max_score(self, prefix: str) -> float:
        return max((f.score for f in self.of_type(prefix)), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "stages": [s.to_dict() for s in self.stages],
        }
