"""Section 4: PII precision and recall per type, matched by span overlap.

A finding counts when its score reaches ``FLAG_SCORE`` (the same operating
point as the injection sections). A gold span is found when a finding of its
type overlaps it; a finding is correct when it overlaps a gold span of its type.
Recall at any score is kept too, to tell a missed value from a low score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from benchmarks.security.pii_corpus import LabelledText, Span, report_type
from benchmarks.security.stages import FLAG_SCORE
from proctor.scanners import Cascade, Finding

EXAMPLES = 6


def _overlaps(finding: Finding, span: Span) -> bool:
    return finding.start < span.end and span.start < finding.end


def evaluate(corpus: Sequence[LabelledText], cascade: Cascade) -> dict[str, Any]:
    gold: Counter[str] = Counter()
    found: Counter[str] = Counter()
    found_any: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    by_subtype: dict[str, Counter[str]] = {}
    misses: dict[str, list[str]] = {}
    false_alarms: dict[str, list[str]] = {}
    for item in corpus:
        findings = list(cascade.scan(item.text, "input", types=["pii"]).of_type("pii"))
        strong = [f for f in findings if f.score >= FLAG_SCORE]
        for span in item.spans:
            gold[span.type] += 1
            hit = any(report_type(f.type) == span.type and _overlaps(f, span) for f in strong)
            found[span.type] += hit
            found_any[span.type] += any(
                report_type(f.type) == span.type and _overlaps(f, span) for f in findings
            )
            if item.subtype:
                sub = by_subtype.setdefault(item.subtype, Counter())
                sub["gold"] += 1
                sub["found"] += hit
            if not hit:
                misses.setdefault(span.type, []).append(_explain(item, findings))
        for f in strong:
            kind = report_type(f.type)
            predicted[kind] += 1
            if any(s.type == kind and _overlaps(f, s) for s in item.spans):
                correct[kind] += 1
            else:
                false_alarms.setdefault(kind, []).append(f"{item.text!r} ({f.detail})")
    types = sorted(set(gold) | set(predicted))
    return {
        "flag_score": FLAG_SCORE,
        "texts": len(corpus),
        "negative_texts": sum(1 for item in corpus if not item.spans),
        "per_type": {
            kind: {
                "gold": gold[kind],
                "predicted": predicted[kind],
                "precision": correct[kind] / predicted[kind] if predicted[kind] else None,
                "recall": found[kind] / gold[kind] if gold[kind] else None,
                "recall_any_score": found_any[kind] / gold[kind] if gold[kind] else None,
            }
            for kind in types
        },
        "national_id_recall": {
            kind: c["found"] / c["gold"] for kind, c in sorted(by_subtype.items())
        },
        "missed_examples": {k: v[:EXAMPLES] for k, v in misses.items()},
        "missed_counts": {k: len(v) for k, v in misses.items()},
        "false_alarm_examples": {k: v[:EXAMPLES] for k, v in false_alarms.items()},
        "false_alarm_counts": {k: len(v) for k, v in false_alarms.items()},
    }


def _explain(item: LabelledText, findings: Sequence[Finding]) -> str:
    seen = ", ".join(f"{f.type} {f.score:.2f}" for f in findings) or "no finding"
    return f"{item.text!r} -> {seen}"


def recall_by_subtype(corpus: Sequence[LabelledText], cascade: Cascade) -> dict[str, float]:
    """Recall at ``FLAG_SCORE`` per subtype (the locale of a phone, the issuer of a card)."""
    gold: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for item in corpus:
        if not item.spans or not item.subtype:
            continue
        strong = [
            f
            for f in cascade.scan(item.text, "input", types=["pii"]).findings
            if f.score >= FLAG_SCORE
        ]
        for span in item.spans:
            gold[item.subtype] += 1
            found[item.subtype] += any(f.type == span.type and _overlaps(f, span) for f in strong)
    return {kind: found[kind] / gold[kind] for kind in gold}
