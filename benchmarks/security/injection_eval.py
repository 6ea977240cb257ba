"""Section 1: prompt injection in AgentDojo tool outputs, per stage and per suite.

Recall counts every injected output of every (user task, injection task,
attack) run; the clean rate counts every output of the clean runs (the outputs
of attacked runs that hold no injection are the same texts). Each distinct text
is scanned once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.security.agentdojo_runs import HELD_OUT, SuiteRuns, outputs
from benchmarks.security.stages import injection_rules
from proctor.scanners import Cascade

EXAMPLES = 12


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def score_suites(
    runs: Sequence[SuiteRuns], flagged: Callable[[str], bool]
) -> dict[str, dict[str, Any]]:
    """Per suite, per attack, all suites and the held-out suites: recall and clean rate."""
    groups: dict[str, Counter[str]] = {}

    def add(group: str, key: str, value: int = 1) -> None:
        groups.setdefault(group, Counter())[key] += value

    for suite in runs:
        names = [suite.suite, "all"] + (["held_out"] if suite.suite in HELD_OUT else [])
        for _, call in outputs(suite.clean):
            hit = flagged(call.output)
            for name in names:
                add(name, "clean")
                add(name, "clean_flagged", hit)
        for run, call in outputs(suite.attacked):
            if call.index not in run.injected:
                continue
            hit = flagged(call.output)
            for name in [*names, f"attack:{run.attack}"]:
                add(name, "injected")
                add(name, "injected_flagged", hit)
    return {
        name: {
            "injected": counts["injected"],
            "recall": _rate(counts["injected_flagged"], counts["injected"]),
            "clean": counts["clean"],
            "clean_flagged": _rate(counts["clean_flagged"], counts["clean"]),
        }
        for name, counts in groups.items()
    }


def errors(
    runs: Sequence[SuiteRuns], flagged: Callable[[str], bool], loaded: Cascade
) -> dict[str, Any]:
    """What was missed (by attack and injection task) and which clean outputs were flagged."""
    missed: Counter[str] = Counter()
    missed_examples: dict[str, str] = {}
    false_alarms: list[dict[str, Any]] = []
    for suite in runs:
        for run, call in outputs(suite.attacked):
            if call.index in run.injected and not flagged(call.output):
                key = f"{suite.suite}/{run.attack}/{run.injection_task}"
                missed[key] += 1
                missed_examples.setdefault(key, run.injection_text.strip()[:300])
        for run, call in outputs(suite.clean):
            if flagged(call.output):
                false_alarms.append(
                    {
                        "suite": suite.suite,
                        "user_task": run.user_task,
                        "function": call.function,
                        "rules": injection_rules(loaded, call.output),
                    }
                )
    return {
        "missed_by_attack_and_goal": dict(missed.most_common()),
        "missed_injection_texts": {
            key: missed_examples[key] for key, _ in missed.most_common(EXAMPLES)
        },
        "clean_flagged": false_alarms,
    }


def run_counts(runs: Sequence[SuiteRuns]) -> dict[str, Any]:
    return {
        suite.suite: {
            "user_tasks": len(suite.clean),
            "skipped_user_tasks": suite.skipped,
            "attacked_runs": len(suite.attacked),
            "attacked_runs_failed": sum(1 for r in suite.attacked if r.error),
            "clean_outputs": sum(len(r.calls) for r in suite.clean),
            "injected_outputs": sum(len(r.injected) for r in suite.attacked),
        }
        for suite in runs
    }
