"""proctor as a benchmark engine, with the same shape as the Cedar and Rego engines.

An engine has ``name``, ``fast_path``, ``prepare(request)`` (done once per pool
request, outside the timing), ``decide(prepared)`` (the timed call) and
``allowed(result)``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.generate import BenchRequest, BenchRule, to_proctor_yaml

FAST_PATH = (
    "load_policies(texts=[yaml]) once -> CompiledPolicySet; "
    "per decision CheckRequest(...) built and CompiledPolicySet.evaluate(it), both timed"
)
AGENT_ID = "bench-agent"


class ProctorEngine:
    name = "proctor"
    fast_path = FAST_PATH

    def __init__(self, rules: list[BenchRule]) -> None:
        from proctor.model.request import Agent, CheckRequest
        from proctor.policy import load_policies

        self.text = to_proctor_yaml(rules)
        started = time.perf_counter()  # the load from text, as each peer's is timed
        self.policy_set = load_policies(texts=[self.text], timezone=UTC)
        self.load_seconds = time.perf_counter() - started
        evaluate, agent = self.policy_set.evaluate, Agent(AGENT_ID)

        def decide(prepared: tuple[str, datetime, dict[str, object]]) -> Any:
            # the request is built inside the timed call, as every caller builds one
            action, now, args = prepared
            return evaluate(CheckRequest(action, agent, now, args=args))

        self.decide = decide

    @staticmethod
    def prepare(request: BenchRequest) -> tuple[str, datetime, dict[str, object]]:
        return request.action, request.now, request.args

    @staticmethod
    def allowed(decision: Any) -> bool:
        return bool(decision.allowed)
