"""AutoGen AgentChat: a tool wrapper for any ``autogen_core`` tool (``FunctionTool``, ...).

::

    tools = governed_tools([FunctionTool(lookup_order, "..."), ...], server="shop")
    agent = AssistantAgent("support", model_client=client, tools=tools)
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        await agent.run(task="refund order A-1")

The wrapper keeps the tool's name, description and argument schema, so the
model sees the same tool. A call is checked as ``call:<server>/<tool>`` with
its hints (``annotations=``), as through the MCP proxy. A refused call raises
inside the tool, which AgentChat's workbench hands to the model as an error
result (``is_error``) carrying the refusal; with ``on_block="raise"`` the
error is ``ActionDenied`` / ``ApprovalRequired`` (which a direct ``run_json``
raises to its caller). Results are reviewed as through the proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Unpack

from proctor.adapters._gate import FrameworkGate, GateOptions, missing_extra

try:
    from autogen_core import CancellationToken
    from autogen_core.tools import BaseTool
    from pydantic import BaseModel
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "AutoGen AgentChat", "autogen", exc) from exc


class ToolCallRefused(RuntimeError):
    """A refusal in ``message`` mode: AgentChat gives its text to the model as an error result."""


class GovernedTool(BaseTool[BaseModel, Any]):
    """``inner`` run only when proctor allows the call; its result reviewed before it returns."""

    def __init__(self, inner: BaseTool[Any, Any], gate: FrameworkGate) -> None:
        super().__init__(
            inner.args_type(), inner.return_type(), inner.name, inner.description, inner._strict
        )
        self.inner = inner
        self.gate = gate

    @property
    def schema(self) -> Any:
        return self.inner.schema

    def return_value_as_string(self, value: Any) -> str:
        return value if isinstance(value, str) else self.inner.return_value_as_string(value)

    async def run_json(
        self,
        args: Mapping[str, Any],
        cancellation_token: CancellationToken,
        call_id: str | None = None,
    ) -> Any:
        call = self.gate.check(self.name, args)
        if not call.allowed:
            raise ToolCallRefused(self.gate.refuse(call))
        passed = call.passed_args if call.masked else args  # as the input scan left them
        result = await self.inner.run_json(passed, cancellation_token, call_id=call_id)
        # The model reads the result as text: that text is what is reviewed.
        reviewed = self.gate.review_output(call, self.inner.return_value_as_string(result))
        if reviewed.refused:
            raise ToolCallRefused(str(reviewed.value))
        return reviewed.value if reviewed.changed else result

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> Any:
        return await self.run_json(args.model_dump(), cancellation_token)


def governed_tools(tools: Iterable[Any], **options: Unpack[GateOptions]) -> list[GovernedTool]:
    """Each of ``tools`` governed through one gate (``FrameworkGate``'s keyword arguments:
    ``server``, and ``actions`` and ``annotations`` by tool name, ``session``, ``on_block``)."""
    gate = FrameworkGate(**options)
    return [GovernedTool(tool, gate) for tool in tools]


__all__ = ["GovernedTool", "ToolCallRefused", "governed_tools"]
