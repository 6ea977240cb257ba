"""The name every personal-data finding carries as its scanner, whichever detector found it,
and how a detector scores one by the words around it."""

from __future__ import annotations

from proctor.scanners.context import ContextWords, join
from proctor.scanners.findings import Finding

NAME = "pii"


def pii_finding(
    kind: str,
    span: tuple[int, int],
    reason: str,
    base: float,
    context: ContextWords,
    lowered: str,
) -> Finding:
    """A ``kind`` finding at ``span``: the score ``base`` moved by the ``context`` words
    around it (in ``lowered``, the text lowercased), which its detail names after ``reason``."""
    start, end = span
    score, why = context.adjust(base, lowered, start, end)
    return Finding(kind, start, end, score, NAME, join(reason, why))
