"""The scanner sets the bench compares, loaded as a deployment loads them.

Stage 1 is the ``injection`` pattern scanner; stage 2 the ``injection_model``
classifier. Both come from the ``proctor.scanners`` entry points; while the
classifier is not registered yet, its module is tried directly. A missing piece
makes the sections that need it report "not available" with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from proctor.scanners import Cascade, Scanner
from proctor.sdk.scanning import build_cascade, load_scanners

STAGE1 = "injection"
STAGE2 = "injection_model"
BASE = ("pii", "secrets", "injection")
# A finding at or above this score counts as "flagged" (the score a deny-on-injection
# policy would use; stage 1 keeps its weak signals, such as one look-alike letter, below it).
FLAG_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class Loaded:
    cascade: Cascade | None
    why_not: str = ""
    source: str = ""


def _classifier() -> tuple[Scanner | None, str, str]:
    try:
        return load_scanners([STAGE2])[0], "", "entry point"
    except Exception as exc:
        first = f"{type(exc).__name__}: {exc}"
    try:
        from proctor.scanners.classifier import InjectionClassifier

        scanner = InjectionClassifier()
        scanner.scan("warm-up", "output")  # loads the model file
        return scanner, "", "module (entry point not registered)"
    except Exception as exc:
        return None, f"{first}; module: {type(exc).__name__}: {exc}", ""


def cascade(names: tuple[str, ...], *, with_classifier: bool = False) -> Loaded:
    """A cascade of ``names`` (entry points), plus stage 2 when asked and available."""
    scanners = list(load_scanners(names)) if names else []
    source = "entry points"
    if with_classifier:
        model, why_not, source = _classifier()
        if model is None:
            return Loaded(None, why_not)
        scanners.append(model)
    return Loaded(Cascade(scanners, timer=time.perf_counter, budget_ms=1000.0), source=source)


def default_cascade() -> Cascade:
    return build_cascade(BASE, budget_ms=1000.0)


def injection_flagger(loaded: Cascade) -> Callable[[str], bool]:
    """``text -> flagged`` for injection findings, cached by text (outputs repeat)."""
    seen: dict[str, bool] = {}

    def flagged(text: str) -> bool:
        verdict = seen.get(text)
        if verdict is None:
            result = loaded.scan(text, "output", types=["injection"])
            verdict = result.max_score("injection") >= FLAG_SCORE
            seen[text] = verdict
        return verdict

    return flagged


def injection_findings(loaded: Cascade) -> Callable[[str], tuple[dict[str, Any], ...]]:
    """``text -> findings`` (as the runtime records them) of injection at ``FLAG_SCORE`` or
    more, cached by text: what makes the runtime mark a run contaminated."""
    seen: dict[str, tuple[dict[str, Any], ...]] = {}

    def findings(text: str) -> tuple[dict[str, Any], ...]:
        found = seen.get(text)
        if found is None:
            result = loaded.scan(text, "output", types=["injection"])
            found = tuple(f.to_dict() for f in result.of_type("injection") if f.score >= FLAG_SCORE)
            seen[text] = found
        return found

    return findings


def injection_rules(loaded: Cascade, text: str) -> list[str]:
    """Finding types at or above the flag score, with their rule (for error analysis)."""
    result = loaded.scan(text, "output", types=["injection"])
    return sorted(
        {f"{f.type}:{f.detail}" for f in result.of_type("injection") if f.score >= FLAG_SCORE}
    )
