"""CrewAI: a tool wrapper for any ``BaseTool`` (``@tool`` functions included).

::

    tools = governed_tools([lookup_order_tool, refund_tool], server="shop")
    agent = Agent(role="desk", goal="...", backstory="...", tools=tools, llm=llm)
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        Crew(agents=[agent], tasks=[task]).kickoff()

The wrapper keeps the tool's name, description and argument schema, so the
model sees the same tool. A call is checked as ``call:<server>/<tool>`` with
its hints (``annotations=``), as through the MCP proxy; a refused call returns
the refusal as the tool's output; ``on_block="raise"`` raises
``ActionDenied`` / ``ApprovalRequired``, which CrewAI reports to the model as
a tool error. Results are reviewed as through the proxy before the model sees
them, and never cached: CrewAI's tool cache would answer a repeated call
without a check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Unpack

from pydantic import ConfigDict

from proctor.adapters._gate import FrameworkGate, GateOptions, call_arguments, missing_extra

try:
    from crewai.tools import BaseTool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "CrewAI", "crewai", exc) from exc


def _never_cache(_args: Any = None, _result: Any = None) -> bool:
    return False


class GovernedTool(BaseTool):  # type: ignore[misc]  # typed, but not in the dev extra
    """``inner`` run only when proctor allows the call; its output reviewed before it returns."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseTool
    gate: FrameworkGate

    @classmethod
    def of(cls, inner: BaseTool, gate: FrameworkGate) -> GovernedTool:
        return cls(
            name=inner.name,
            description=inner.description,
            args_schema=inner.args_schema,
            result_as_answer=inner.result_as_answer,
            cache_function=_never_cache,
            inner=inner,
            gate=gate,
        )

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        call = self.gate.check(self.name, call_arguments(args, kwargs))
        if not call.allowed:
            return self.gate.refuse(call)
        args, kwargs = call.passed_call(args, kwargs)
        return self.gate.review_output(call, self.inner.run(*args, **kwargs)).value

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:
        call = self.gate.check(self.name, call_arguments(args, kwargs))
        if not call.allowed:
            return self.gate.refuse(call)
        args, kwargs = call.passed_call(args, kwargs)
        return self.gate.review_output(call, await self.inner.arun(*args, **kwargs)).value


def governed_tools(tools: Iterable[BaseTool], **options: Unpack[GateOptions]) -> list[GovernedTool]:
    """Each of ``tools`` governed through one gate (``FrameworkGate``'s keyword arguments:
    ``server``, and ``actions`` and ``annotations`` by tool name, ``session``, ``on_block``)."""
    gate = FrameworkGate(**options)
    return [GovernedTool.of(tool, gate) for tool in tools]


__all__ = ["GovernedTool", "governed_tools"]
