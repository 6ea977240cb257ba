"""AgentDojo's data for training and evaluation: tool outputs, environments, attacks.

AgentDojo runs each user task's ground truth without a model; the tool outputs it
returns, with the injection vectors as canaries, are the carriers of the attacks.
"""

from __future__ import annotations

import random
import re
import warnings
from typing import Any

from injection_training.settings import BENCHMARK, MODELS, USERS


def quiet_agentdojo() -> Any:
    warnings.filterwarnings("ignore")
    from agentdojo.task_suite.load_suites import get_suites

    return get_suites(BENCHMARK)


def tool_outputs(suite: Any) -> list[str]:
    """Tool outputs of every user task's ground-truth run, injection vectors as canaries."""
    from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline
    from agentdojo.functions_runtime import FunctionsRuntime
    from agentdojo.types import get_text_content_as_str

    canaries = {
        vector: f"<CANARY---{vector}--->" for vector in suite.get_injection_vector_defaults()
    }
    outputs: dict[str, None] = {}
    for task_id in sorted(suite.user_tasks):
        task = suite.user_tasks[task_id]
        environment = suite.load_and_inject_default_environment(canaries)
        _, _, _, messages, _ = GroundTruthPipeline(task).query(
            task.PROMPT, FunctionsRuntime(suite.tools), environment
        )
        for message in messages:
            if message["role"] == "tool" and message.get("content"):
                text = NOW.sub(FIXED_TIME, get_text_content_as_str(message["content"]))
                if text.strip():
                    outputs[text] = None
    return list(outputs)


# Tools that create something (send_email) stamp it with the current time, to the
# microsecond: one fixed time keeps the data the same from run to run.
NOW = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d{6}")
FIXED_TIME = "2024-05-15 10:00:00"


def inject(output: str, defaults: dict[str, str], value: str | None) -> str:
    """``output`` with each canary replaced by ``value`` (an attack) or its default."""
    for vector, default in defaults.items():
        output = output.replace(f"<CANARY---{vector}--->", default if value is None else value)
    return output


def environment_strings(suite: Any) -> list[str]:
    """Every string of 20+ characters in the suite's default environment."""
    found: dict[str, None] = {}
    stack: list[Any] = [suite.load_and_inject_default_environment({}).model_dump()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node[k] for k in sorted(node, key=str))
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, str) and len(node) >= 20:
            found[node] = None
    return sorted(found)


def attack_template(name: str, suite: Any) -> str:
    """An AgentDojo attack's template string (``{goal}``, ``{user}``, ``{model}``, ``{tools}``)."""
    from agentdojo.attacks.attack_registry import ATTACKS

    return str(ATTACKS[name](suite, _NamedPipeline()).jailbreak)


class _NamedPipeline:
    """Stands in for a target pipeline: attacks only read its name (to name the model)."""

    name = "gpt-4o-2024-05-13"


def attack_text(template: str, goal: str, rng: random.Random, suite: Any, task: Any) -> str:
    text = template.replace("{goal}", goal).replace("{user}", rng.choice(USERS))
    text = text.replace("{model}", rng.choice(MODELS))
    if "{tools}" in text:
        text = text.replace("{tools}", _tool_sequence(suite, task))
    return text


def _tool_sequence(suite: Any, task: Any) -> str:
    from agentdojo.attacks.important_instructions_attacks import ToolKnowledgeAttack

    return str(ToolKnowledgeAttack(suite, _NamedPipeline()).get_tools_sequence(task))
