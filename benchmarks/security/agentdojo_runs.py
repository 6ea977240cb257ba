"""AgentDojo replayed offline: each user task's ground-truth calls, clean and attacked.

No model runs. For every suite and user task the ground-truth function calls
(``user_task.ground_truth``) are executed against the environment loaded clean
and loaded with each injection task's goal placed by an attack, and every tool
output is kept as AgentDojo renders it for the model (``tool_result_to_str``,
YAML). An output is labelled *injected* when the same call's output shows an
injection vector in the canary run (below) and differs from the clean run's
output of the same call: the only difference between the two environments is
the injection text.

Which injection vectors a task sees is found as AgentDojo finds it (canaries in
every vector, then the ground truth run). The attack texts come from
AgentDojo's own attack classes; for the fixed-template attacks the text does
not depend on the user task, so one environment per (attack, injection task)
is loaded with the text in every vector some task of the suite sees, and each
user task runs on a deep copy. A task's outputs only show the vectors it
touches, so the outputs equal those of AgentDojo's per-task injection
(``tests/benchmarks/test_security_bench.py`` checks this on a sample).
Loading repeats ``TaskSuite.load_and_inject_default_environment`` step by step
with the environment text read once per suite (parsing it is the slow part).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

BENCHMARK_VERSION = "v1.2.2"
SUITES = ("workspace", "travel", "banking", "slack")
HELD_OUT = ("banking", "slack")  # the stage 2 classifier never sees these suites
ATTACKS = (
    "important_instructions",
    "ignore_previous",
    "system_message",
    "injecagent",
    "direct",
    "tool_knowledge",
)
# Some attacks address the model by name; any name AgentDojo knows will do.
TARGET_MODEL = "gpt-4o-2024-05-13"


@dataclass(frozen=True, slots=True)
class Call:
    index: int
    function: str
    args: dict[str, Any]
    output: str


@dataclass(frozen=True, slots=True)
class Run:
    """One user task's ground truth executed in one environment."""

    suite: str
    user_task: str
    prompt: str
    calls: tuple[Call, ...]
    injection_task: str | None = None
    attack: str | None = None
    injection_text: str = ""
    injected: frozenset[int] = frozenset()  # indices of calls whose output holds the injection
    attacker_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: str | None = None


@dataclass
class SuiteRuns:
    suite: str
    clean: list[Run] = field(default_factory=list)
    attacked: list[Run] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # user task -> why


def _quiet() -> None:
    warnings.filterwarnings("ignore", module="agentdojo")


def load_suites(names: Sequence[str] = SUITES, version: str = BENCHMARK_VERSION) -> dict[str, Any]:
    _quiet()
    from agentdojo.task_suite.load_suites import get_suites

    available = get_suites(version)
    return {name: available[name] for name in names}


class EnvironmentLoader:
    """``load_and_inject_default_environment`` with the suite's text read once."""

    def __init__(self, suite: Any) -> None:
        from agentdojo.task_suite.task_suite import read_suite_file

        self.suite = suite
        self.text = read_suite_file(suite.name, "environment.yaml", suite.data_path)
        self.defaults = suite.get_injection_vector_defaults()
        self._loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def load(self, injections: dict[str, str]) -> Any:
        unknown = set(injections) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown injection vectors: {sorted(unknown)}")
        text = self.text.format(**dict(self.defaults, **injections))
        return self.suite.environment_type.model_validate(yaml.load(text, Loader=self._loader))


def execute(suite: Any, task: Any, environment: Any) -> tuple[list[Call], Any]:
    """The task's ground-truth calls run against ``environment`` (changed in place)."""
    from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline
    from agentdojo.functions_runtime import FunctionsRuntime
    from agentdojo.types import get_text_content_as_str

    environment = task.init_environment(environment)
    runtime = FunctionsRuntime(suite.tools)
    _, _, environment, messages, _ = GroundTruthPipeline(task).query(
        task.PROMPT, runtime, environment
    )
    calls = []
    for message in messages:
        if message["role"] != "tool":
            continue
        call = message["tool_call"]
        calls.append(
            Call(
                len(calls),
                call.function,
                dict(call.args),
                get_text_content_as_str(message["content"]),
            )
        )
    return calls, environment


def injection_candidates(
    suite: Any, loader: EnvironmentLoader, task: Any
) -> tuple[list[str], frozenset[int]]:
    """The vectors a task's ground truth shows the model (AgentDojo's canary method),
    and the indices of the calls whose output shows one."""
    canaries = {vector: f"<CANARY---{vector}--->" for vector in loader.defaults}
    calls, _ = execute(suite, task, loader.load(canaries))
    seen = "\n".join(c.output for c in calls)
    showing = frozenset(
        c.index for c in calls if any(canary in c.output for canary in canaries.values())
    )
    return [vector for vector, canary in canaries.items() if canary in seen], showing


def _attack(name: str, suite: Any, candidates: dict[str, list[str]]) -> Any:
    from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline
    from agentdojo.attacks.attack_registry import load_attack

    pipeline = GroundTruthPipeline(None)
    pipeline.name = TARGET_MODEL
    attack = load_attack(name, suite, pipeline)
    # AgentDojo recomputes this per task with a full environment load; reuse ours.
    attack.get_injection_candidates = lambda task: candidates[task.ID]
    return attack


def collect(
    suite_name: str,
    suite: Any,
    *,
    attacks: Sequence[str] = ATTACKS,
    user_tasks: int | None = None,
    injection_tasks: int | None = None,
) -> SuiteRuns:
    """Clean and attacked runs of a suite (``user_tasks``/``injection_tasks`` cap for tests)."""
    _quiet()
    loader = EnvironmentLoader(suite)
    result = SuiteRuns(suite_name)
    tasks = list(suite.user_tasks.values())[:user_tasks]
    goals = list(suite.injection_tasks.values())[:injection_tasks]
    clean_env = loader.load({})
    candidates: dict[str, list[str]] = {}
    showing: dict[str, frozenset[int]] = {}
    for task in tasks:
        try:
            calls, _ = execute(suite, task, clean_env.model_copy(deep=True))
            candidates[task.ID], showing[task.ID] = injection_candidates(suite, loader, task)
        except Exception as exc:  # a broken ground truth is reported, not fatal
            result.skipped[task.ID] = f"ground truth raised {type(exc).__name__}"
            continue
        result.clean.append(Run(suite_name, task.ID, task.PROMPT, tuple(calls)))
    clean_by_task = {run.user_task: run for run in result.clean}
    seen_vectors = sorted({v for vectors in candidates.values() for v in vectors})
    for attack_name in attacks:
        attack = _attack(attack_name, suite, candidates)
        for goal in goals:
            text = _attack_text(attack, [t for t in tasks if t.ID in clean_by_task], goal)
            environment = loader.load(dict.fromkeys(seen_vectors, text))
            for task in tasks:
                clean = clean_by_task.get(task.ID)
                if clean is None or not candidates[task.ID]:
                    continue
                result.attacked.append(
                    _attacked_run(
                        suite, task, goal, attack_name, text, environment, clean, showing[task.ID]
                    )
                )
    return result


def _attack_text(attack: Any, tasks: Iterable[Any], goal: Any) -> str:
    texts = {
        value for task in tasks for value in attack.attack(task, goal).values()
    }  # one text per (attack, goal) for the fixed templates; anything else is a change
    if len(texts) != 1:
        raise ValueError(f"attack `{attack.name}` varies its text by user task")
    return texts.pop()


def _attacked_run(
    suite: Any,
    task: Any,
    goal: Any,
    attack: str,
    text: str,
    environment: Any,
    clean: Run,
    showing: frozenset[int],
) -> Run:
    fresh = environment.model_copy(deep=True)
    base = Run(clean.suite, task.ID, task.PROMPT, (), goal.ID, attack, text, frozenset(), (), None)
    try:
        calls, after = execute(suite, task, fresh)
        attacker = tuple((c.function, dict(c.args)) for c in goal.ground_truth(after))
    except Exception as exc:
        return replace(base, error=f"ground truth raised {type(exc).__name__}")
    # Shown a vector in the canary run and changed by the injection (outputs that differ
    # only by a timestamp, such as a newly created file, are not injected).
    injected = frozenset(
        c.index
        for c in calls
        if c.index in showing
        and (
            c.index >= len(clean.calls)
            or c.function != clean.calls[c.index].function
            or c.output != clean.calls[c.index].output
        )
    )
    return replace(base, calls=tuple(calls), injected=injected, attacker_calls=attacker)


def outputs(runs: Iterable[Run]) -> Iterator[tuple[Run, Call]]:
    for run in runs:
        for call in run.calls:
            yield run, call
