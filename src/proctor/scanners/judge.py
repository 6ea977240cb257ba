"""Prompt injection, stage 3: a judge (usually a language model) asked about the text.

Off by default: a judge is slow and often remote, so it runs only when a
deployment configures one. The scanner is pure: the judge is a callable passed
in, and any I/O (an HTTP call, ``proctor.judge_http``) lives in it. A judge
that raises, times out or answers nonsense fails the stage; the cascade then
applies its fail mode (``closed``: a ``scan.incomplete`` finding).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from proctor.scanners.errors import INVALID_SCANNER_OPTIONS, JUDGE_FAILED, ScanError
from proctor.scanners.findings import Direction, Finding

NAME = "injection_judge"
FINDING_TYPE = "injection.judge"
# A judge's reason goes into the finding's detail; keep it short.
MAX_REASON_CHARS = 200
# The stage's time budget in a cascade built by ``proctor.scanners.loading.build_cascade``.
DEFAULT_BUDGET_MS = 2_500.0
# Shorter strings (ids, amounts, names in tool arguments) are not worth a judge's call;
# the pattern stage still sees them.
DEFAULT_MIN_CHARS = 20


@dataclass(frozen=True, slots=True)
class JudgeVerdict:
    """How likely the text is an injection (``score`` in [0, 1]) and why."""

    score: float
    reason: str = ""

    def __post_init__(self) -> None:
        if not _is_score(self.score):
            raise ScanError(
                f"a judge's score must be a number from 0 to 1, not `{self.score!r}`",
                code=JUDGE_FAILED,
            )
        if not isinstance(self.reason, str):
            raise ScanError("a judge's reason must be a string", code=JUDGE_FAILED)


Judge = Callable[[str, Direction], JudgeVerdict | float | bool]


def verdict_of(answer: object) -> JudgeVerdict:
    """A judge's answer as a verdict: ``True`` is 1, ``False`` 0, a number its score."""
    if isinstance(answer, JudgeVerdict):
        return answer
    if isinstance(answer, bool):
        return JudgeVerdict(1.0 if answer else 0.0)
    if isinstance(answer, int | float):
        return JudgeVerdict(float(answer))
    raise ScanError(
        f"a judge must return a JudgeVerdict, a number or a bool, not {type(answer).__name__}",
        code=JUDGE_FAILED,
    )


class JudgeScanner:
    """An ``injection.judge`` finding over the whole text when the judge's score reaches
    ``threshold``.

    The finding's ``detail`` is the judge's reason, cut to 200 characters; a
    judge must not quote the text in it. ``budget_ms`` is the stage's time budget
    (a cascade cannot interrupt the judge: an HTTP judge's timeout bounds it).
    Texts shorter than ``min_chars`` (after trimming) are not sent to the judge.
    """

    cost = 100  # last: a judge is the most expensive stage
    types = frozenset({FINDING_TYPE})

    def __init__(
        self,
        judge: Judge,
        *,
        threshold: float = 0.5,
        name: str = NAME,
        budget_ms: float = DEFAULT_BUDGET_MS,
        min_chars: int = DEFAULT_MIN_CHARS,
    ) -> None:
        if not callable(judge):
            raise ScanError("the judge must be callable", code=INVALID_SCANNER_OPTIONS)
        if not _is_score(threshold):
            raise ScanError(
                f"the judge `threshold` must be a number from 0 to 1, not `{threshold!r}`",
                code=INVALID_SCANNER_OPTIONS,
            )
        if not isinstance(name, str) or not name:
            raise ScanError("the judge scanner needs a name", code=INVALID_SCANNER_OPTIONS)
        if isinstance(budget_ms, bool) or not isinstance(budget_ms, int | float) or budget_ms <= 0:
            raise ScanError(
                f"the judge's `budget_ms` must be a positive number, not `{budget_ms!r}`",
                code=INVALID_SCANNER_OPTIONS,
            )
        if isinstance(min_chars, bool) or not isinstance(min_chars, int) or min_chars < 1:
            raise ScanError(
                f"the judge's `min_chars` must be a positive integer, not `{min_chars!r}`",
                code=INVALID_SCANNER_OPTIONS,
            )
        self.name = name
        self.threshold = float(threshold)
        self.budget_ms = float(budget_ms)
        self.min_chars = min_chars
        self._judge = judge

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        if len(text.strip()) < self.min_chars:
            return ()
        verdict = verdict_of(self._judge(text, direction))
        if verdict.score < self.threshold:
            return ()
        reason = " ".join(verdict.reason.split())[:MAX_REASON_CHARS]
        return (Finding(FINDING_TYPE, 0, len(text), verdict.score, self.name, reason or "judge"),)


def _is_score(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )
