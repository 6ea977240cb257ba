"""LangChain and LangGraph: an agent middleware, and a wrapper for any ``BaseTool``.

The middleware checks every tool call an agent built with
``langchain.agents.create_agent`` makes, before the tool runs::

    agent = create_agent(model, tools, middleware=[ProctorMiddleware(server="shop")])
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        agent.invoke({"messages": [...]})

``governed(tool)`` wraps one tool for any other caller (a LangGraph
``ToolNode``, a chain, a direct ``invoke``), keeping its name, description and
argument schema, so the model sees the same tool.

A refused call gives the model a ``ToolMessage`` with ``status="error"`` naming
the reason (and the approval id when a person must approve);
``on_block="raise"`` raises ``ToolCallBlocked`` instead. Callbacks are not used:
a callback that raises does not stop a tool unless ``raise_error`` is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Unpack

from proctor.adapters._gate import (
    CheckedCall,
    FrameworkGate,
    ToolOptions,
    missing_extra,
    one_tool_gate,
)

try:
    from langchain.agents.middleware import AgentMiddleware
    from langchain.agents.middleware.types import ToolCallRequest
    from langchain_core.messages import ToolMessage
    from langchain_core.tools import BaseTool
    from langgraph.types import Command
    from pydantic import ConfigDict, PrivateAttr

    from proctor.adapters.langgraph import (
        OnBlockOrInterrupt,
        ProctorToolCalls,
        ToolResult,
        reviewed_result,
    )
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "LangChain and LangGraph", "langchain", exc) from exc


class ProctorMiddleware(AgentMiddleware):
    """Check each tool call with proctor before the tool runs; review its result after.

    ``server`` names the tools' server (actions ``call:<server>/<tool>``),
    ``actions`` maps a tool name to another action and ``annotations`` a tool
    name to its MCP hints, as ``FrameworkGate`` reads them; the session is
    ``session`` when given, else the one entered with ``with proctor.session(...)``
    around ``invoke``/``ainvoke``. ``on_block="interrupt"`` pauses the agent's
    graph at a held call, as ``proctor.adapters.langgraph.ProctorToolCalls`` does.
    """

    def __init__(
        self, *, on_block: OnBlockOrInterrupt = "message", **options: Unpack[ToolOptions]
    ) -> None:
        super().__init__()
        self.calls = ProctorToolCalls(on_block=on_block, **options)
        self.gate = self.calls.gate

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        return self.calls.wrap(request, handler)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        return await self.calls.awrap(request, handler)


class GovernedTool(BaseTool):
    """A ``BaseTool`` that runs its inner tool only when proctor allows the call.

    Name, description, argument schema and response format are the inner
    tool's, so a model bound to it sees the same tool. Build it with
    ``governed(tool, action=..., session=...)``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseTool
    _gate: FrameworkGate = PrivateAttr()

    def __init__(self, inner: BaseTool, gate: FrameworkGate) -> None:
        super().__init__(
            name=inner.name,
            description=inner.description,
            args_schema=inner.args_schema,
            return_direct=inner.return_direct,
            response_format=inner.response_format,
            tags=inner.tags,
            metadata=inner.metadata,
            extras=inner.extras,
            inner=inner,
        )
        self._gate = gate

    @property
    def gate(self) -> FrameworkGate:
        return self._gate

    def run(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        call = self._check(tool_input)
        if not call.allowed:
            return self._refusal(call, kwargs.get("tool_call_id"))
        return self._reviewed(call, self.inner.run(_passed(call, tool_input), *args, **kwargs))

    async def arun(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        call = self._check(tool_input)
        if not call.allowed:
            return self._refusal(call, kwargs.get("tool_call_id"))
        passed = _passed(call, tool_input)
        return self._reviewed(call, await self.inner.arun(passed, *args, **kwargs))

    def _run(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - `run` delegates
        raise NotImplementedError("a governed tool runs through its inner tool's `run`")

    def _check(self, tool_input: str | dict[str, Any]) -> CheckedCall:
        if isinstance(tool_input, dict):
            args = self.inner._filter_injected_args(tool_input)
        else:
            args = {"input": tool_input}
        return self._gate.check(self.name, args)

    def _refusal(self, call: CheckedCall, tool_call_id: str | None) -> Any:
        message = self._gate.refuse(call)
        if tool_call_id is None:
            return message
        return ToolMessage(
            content=message, tool_call_id=tool_call_id, name=self.name, status="error"
        )

    def _reviewed(self, call: CheckedCall, output: Any) -> Any:
        if isinstance(output, ToolMessage | Command):
            return reviewed_result(self._gate, call, output)
        return self._gate.review_output(call, output).value


def _passed(call: CheckedCall, tool_input: str | dict[str, Any]) -> str | dict[str, Any]:
    """The input the inner tool gets: what was checked, as the input scan left it."""
    if not call.masked:
        return tool_input
    if isinstance(tool_input, dict):  # the injected arguments (never checked) stay as they were
        return call.passed_over(tool_input)
    return str(call.passed_args["input"])


def governed(
    tool: BaseTool, *, action: str | None = None, annotations: Any = None, **options: Any
) -> GovernedTool:
    """``tool``, checked as ``action`` (default ``call:<server>/<tool name>``) before each run;
    ``annotations`` are its MCP hints (``{"readOnlyHint": True}``); the rest is
    ``FrameworkGate``'s keyword arguments (``server=`` first)."""
    gate = one_tool_gate(tool.name, action=action, annotations=annotations, **options)
    return GovernedTool(tool, gate)


__all__ = ["GovernedTool", "ProctorMiddleware", "governed"]
