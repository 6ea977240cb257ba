"""Held-out evaluation of a trained model."""

from __future__ import annotations

import random
from typing import Any

import yaml
from injection_training import agentdojo_data as agentdojo
from injection_training.benign import EVAL_BENIGN
from injection_training.fit import rate
from injection_training.settings import (
    HELD_OUT_ATTACKS,
    HELD_OUT_SUITES,
    ROOT,
    SEED,
    TRAIN_ATTACKS,
)


def evaluate(model: Any) -> dict[str, Any]:
    """Recall and false-positive rates on what training never saw."""
    rng = random.Random(SEED + 2)
    suites = agentdojo.quiet_agentdojo()
    result: dict[str, Any] = {}
    for name in HELD_OUT_SUITES:
        suite = suites[name]
        defaults = suite.get_injection_vector_defaults()
        outputs = agentdojo.tool_outputs(suite)
        clean = [agentdojo.inject(o, defaults, None) for o in outputs]
        clean_scores = [model.score(t) for t in clean]
        carriers = [o for o in outputs if "<CANARY---" in o]
        per_attack = {}
        for attack in TRAIN_ATTACKS + HELD_OUT_ATTACKS:
            template = agentdojo.attack_template(attack, suite)
            scores = []
            for task_id in sorted(suite.injection_tasks):
                task = suite.injection_tasks[task_id]
                text = agentdojo.attack_text(template, task.GOAL, rng, suite, task)
                for carrier in carriers:
                    scores.append(model.score(agentdojo.inject(carrier, defaults, text)))
            per_attack[attack] = {"n": len(scores), "recall": rate(scores, model.threshold)}
        strings = [model.score(t) for t in agentdojo.environment_strings(suite)]
        result[name] = {
            "clean_outputs": len(clean),
            "clean_fpr": rate(clean_scores, model.threshold),
            "environment_strings": len(strings),
            "environment_strings_fpr": rate(strings, model.threshold),
            "injected_recall": per_attack,
        }
    cases = ROOT / "tests" / "scanners" / "cases"
    for kind in ("benign", "injection"):
        texts = [c["text"] for c in yaml.safe_load((cases / f"{kind}.yaml").read_text())["cases"]]
        scores = [model.score(t) for t in texts]
        result[f"stage1_cases_{kind}"] = {
            "n": len(texts),
            "flagged": rate(scores, model.threshold),
        }
    eval_benign = [model.score(t) for t in EVAL_BENIGN]
    result["eval_benign_trigger_words"] = {
        "n": len(eval_benign),
        "fpr": rate(eval_benign, model.threshold),
    }
    return result
