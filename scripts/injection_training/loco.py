"""The leave-one-corpus-out matrix: the classifier alone, and the cascade it ships in.

For every positive corpus, a model trained on every other corpus (and the shared
benign data) is scored on the corpus it never saw (``held_out``), beside a model
trained on all corpora on the corpus's validation split (``in_corpus``). Each
figure is given twice: for the classifier alone, and for the cascade proctor runs
(stage 1's rules OR the classifier, a finding at or above ``FLAG_SCORE``), which is
what a policy sees. Stage 1 is hand-written and not retrained, so its share of the
cascade's figure is the same whichever corpus is held out.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from injection_training.dataset import build_dataset, is_validation, prose
from injection_training.fit import rate, train
from injection_training.settings import CORPORA

from proctor.scanners.classifier import decode_model
from proctor.scanners.injection import InjectionScanner

FLAG_SCORE = 0.5  # as benchmarks/security/stages.py counts a finding as flagged
WORKERS = int(os.environ.get("PROCTOR_LOCO_WORKERS", "2"))


def leave_one_corpus_out(*, small: bool = False) -> dict[str, Any]:
    """Recall on each positive corpus by a model trained without it (``held_out``) and by
    one trained on every corpus, on the corpus's validation split (``in_corpus``); each at
    the threshold its training calibrated on the benign validation split."""
    data = build_dataset(small=small, corpora=CORPORA)
    names = sorted({role.split(":", 1)[1] for role in data if ":" in role})
    texts = {n: data[f"attacks:{n}"] + data[f"injected:{n}"] for n in names}
    result: dict[str, Any] = {
        "corpora": {
            n: {"attacks": len(data[f"attacks:{n}"]), "texts": len(texts[n])} for n in names
        },
        "benign": len(data["benign"]),
    }
    rules = InjectionScanner()
    by_rules = {
        t: any(f.score >= FLAG_SCORE for f in rules.scan(t, "output"))
        for n in names
        for t in texts[n]
    }
    result["rules_alone"] = {
        n: {"n": len(texts[n]), "recall": rate([float(by_rules[t]) for t in texts[n]], 0.5)}
        for n in names
    }
    subsets = [data] + [
        {role: t for role, t in data.items() if not role.endswith(f":{name}")} for name in names
    ]
    # independent trainings, each seeded: run side by side, the same figures as one by one
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        trained = pool.map(_train, subsets, chunksize=1)
    model = decode_model(trained[0][0])
    result["all_corpora"] = {
        "threshold": model.threshold,
        "validation_benign_fpr": trained[0][1]["validation_benign_fpr"],
    }
    for name, (held, held_report) in zip(names, trained[1:], strict=True):
        held_model = decode_model(held)
        result[name] = {
            "in_corpus": _recall(model, [t for t in texts[name] if is_validation(t)], by_rules),
            "held_out": _recall(held_model, texts[name], by_rules),
            "held_out_threshold": held_model.threshold,
            "held_out_validation_benign_fpr": held_report["validation_benign_fpr"],
        }
    return result


def _train(data: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    return train(data, "loco")


def _recall(model: Any, texts: list[str], by_rules: dict[str, bool]) -> dict[str, Any]:
    """Share of ``texts`` whose prose (what the scanner reads) the model flags, and share
    flagged by the model or stage 1's rules (``cascade``)."""
    flagged = [model.score(prose(t)) >= model.threshold for t in texts]
    return {
        "n": len(texts),
        "recall": rate([float(f) for f in flagged], 0.5),
        "cascade": rate(
            [float(f or by_rules[t]) for f, t in zip(flagged, texts, strict=True)], 0.5
        ),
    }
