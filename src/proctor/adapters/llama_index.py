"""LlamaIndex: a tool wrapper for ``FunctionTool`` (any ``BaseTool``), for agents and direct calls.

::

    tools = governed_tools([FunctionTool.from_defaults(lookup_order), ...], server="shop")
    agent = FunctionAgent(tools=tools, llm=llm)
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        await agent.run(user_msg="refund order A-1")

The wrapper keeps the tool's metadata (name, description, argument schema),
so the model sees the same tool. A call is checked as ``call:<server>/<tool>``
with its hints (``annotations=``), as through the MCP proxy; a refused call
returns a ``ToolOutput`` with ``is_error=True`` whose content is the refusal;
``on_block="raise"`` raises ``ActionDenied`` / ``ApprovalRequired`` (an agent
workflow hands a tool's exception to the model as an error, so the run goes
on). Results are reviewed as through the proxy before the model sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Unpack

from proctor.adapters._gate import (
    CheckedCall,
    FrameworkGate,
    GateOptions,
    call_arguments,
    missing_extra,
    one_tool_gate,
)

try:
    from llama_index.core.tools import AsyncBaseTool, BaseTool, ToolMetadata, ToolOutput
    from llama_index.core.tools.types import adapt_to_async_tool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "LlamaIndex", "llama-index", exc) from exc


class GovernedTool(AsyncBaseTool):
    """``inner`` run only when proctor allows the call; its output reviewed before it returns."""

    def __init__(self, inner: BaseTool, gate: FrameworkGate) -> None:
        self.inner = adapt_to_async_tool(inner)
        self.gate = gate

    @property
    def metadata(self) -> ToolMetadata:
        return self.inner.metadata

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        call = self._check(args, kwargs)
        if not call.allowed:
            return self._refusal(call, kwargs)
        args, kwargs = call.passed_call(args, kwargs)
        return self._reviewed(call, self.inner.call(*args, **kwargs))

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        call = self._check(args, kwargs)
        if not call.allowed:
            return self._refusal(call, kwargs)
        args, kwargs = call.passed_call(args, kwargs)
        return self._reviewed(call, await self.inner.acall(*args, **kwargs))

    def _check(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> CheckedCall:
        return self.gate.check(self.metadata.get_name(), call_arguments(args, kwargs))

    def _refusal(self, call: CheckedCall, kwargs: Mapping[str, Any]) -> ToolOutput:
        message = self.gate.refuse(call)
        return ToolOutput(
            content=message,
            tool_name=call.tool_name,
            raw_input=dict(kwargs),
            raw_output=message,
            is_error=True,
        )

    def _reviewed(self, call: CheckedCall, output: ToolOutput) -> ToolOutput:
        # The model reads the output's text (its content blocks); the raw output stays in code.
        reviewed = self.gate.review_output(call, output.content)
        if not reviewed.changed:
            return output
        return ToolOutput(
            content=str(reviewed.value),
            tool_name=output.tool_name,
            raw_input=output.raw_input,
            raw_output=str(reviewed.value),
            is_error=reviewed.refused or output.is_error,
        )


def governed(
    tool: BaseTool, *, action: str | None = None, annotations: Any = None, **options: Any
) -> GovernedTool:
    """``tool``, checked as ``action`` (default ``call:<server>/<tool name>``) before each call;
    ``annotations`` are its MCP hints; the rest is ``FrameworkGate``'s (``server=`` first)."""
    name = tool.metadata.get_name()
    gate = one_tool_gate(name, action=action, annotations=annotations, **options)
    return GovernedTool(tool, gate)


def governed_tools(tools: Iterable[Any], **options: Unpack[GateOptions]) -> list[GovernedTool]:
    """Each of ``tools`` governed through one gate (``FrameworkGate``'s keyword arguments:
    ``server``, and ``actions`` and ``annotations`` by tool name, ``session``, ``on_block``)."""
    gate = FrameworkGate(**options)
    return [GovernedTool(tool, gate) for tool in tools]


__all__ = ["GovernedTool", "governed", "governed_tools"]
