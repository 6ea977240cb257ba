"""proctor as a benchmark engine, with the same shape as the Cedar and Rego engines.

An engine has ``name``, ``fast_path``, ``prepare(request)`` (done once per pool
request, outside the timing), ``decide(prepared)`` (the timed call) and
``allowed(result)``.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from benchmarks.generate import BenchRequest, BenchRule, to_proctor_yaml

FAST_PATH = (
    "load_policies(texts=[yaml]) once -> CompiledPolicySet; "
    "per decision CompiledPolicySet.evaluate(CheckRequest)"
)
AGENT_ID = "bench-agent"


class ProctorEngine:
    name = "proctor"
    fast_path = FAST_PATH

    def __init__(self, rules: list[BenchRule]) -> None:
        from proctor.model.request import Agent
        from proctor.policy import load_policies

        self.text = to_proctor_yaml(rules)
        self.policy_set = load_policies(texts=[self.text], timezone=UTC)
        self.decide = self.policy_set.evaluate
        self._agent = Agent(AGENT_ID)

    def prepare(self, request: BenchRequest) -> Any:
        from proctor.model.request import CheckRequest

        return CheckRequest(
            action=request.action, agent=self._agent, now=request.now, args=request.args
        )

    @staticmethod
    def allowed(decision: Any) -> bool:
        return bool(decision.allowed)
