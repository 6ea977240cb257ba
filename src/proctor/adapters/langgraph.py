"""LangGraph: a tool-call wrapper for ``ToolNode`` (and the prebuilt agents built on it).

::

    calls = ProctorToolCalls(server="shop", on_block="interrupt")
    graph.add_node("tools", calls.tool_node([lookup_order, refund]))
    app = graph.compile(checkpointer=InMemorySaver())
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        app.invoke({"messages": [...]}, config)

Each call is checked before its tool runs, as ``call:<server>/<tool>`` with
its hints (``annotations=``), as through the MCP proxy, and its result is
reviewed as through the proxy. A refused call gives the model a ``ToolMessage``
with ``status="error"``; ``on_block="raise"`` raises ``ActionDenied`` /
``ApprovalRequired``; ``on_block="interrupt"`` pauses the graph at a held call
(LangGraph's ``interrupt``, which needs a checkpointer): the interrupt's value
names the approval, and once a person approves it in proctor,
``invoke(Command(resume=...), config)`` runs the node again, the call is
checked again and now runs. Resumed before the approval, the call is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Unpack

from proctor.adapters._gate import (
    CheckedCall,
    FrameworkGate,
    ToolOptions,
    approval_id,
    missing_extra,
)
from proctor.model.decision import Effect

try:
    from langchain_core.messages import ToolMessage
    from langchain_core.tools import BaseTool
    from langgraph.prebuilt import ToolNode
    from langgraph.prebuilt.tool_node import ToolCallRequest
    from langgraph.types import Command, interrupt
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "LangGraph", "langgraph", exc) from exc

ToolResult = ToolMessage | Command[Any]
OnBlockOrInterrupt = Literal["message", "raise", "interrupt"]


class ProctorToolCalls:
    """``wrap`` / ``awrap``: a ``ToolNode``'s ``wrap_tool_call`` / ``awrap_tool_call``.

    ``server``, ``actions`` and ``annotations`` name and describe the tools as
    ``FrameworkGate`` does; the session is ``session`` when given, else the one
    entered with ``with proctor.session(...)`` around ``invoke``/``ainvoke``.
    """

    def __init__(
        self, *, on_block: OnBlockOrInterrupt = "message", **options: Unpack[ToolOptions]
    ) -> None:
        if on_block not in ("message", "raise", "interrupt"):
            raise ValueError(
                f"on_block must be `message`, `raise` or `interrupt`, not `{on_block}`"
            )
        self.gate = FrameworkGate(on_block="raise" if on_block == "raise" else "message", **options)
        self.interrupt_held = on_block == "interrupt"

    def tool_node(self, tools: Sequence[BaseTool | Callable[..., Any]], **options: Any) -> ToolNode:
        """A ``ToolNode`` over ``tools`` whose every call goes through this wrapper."""
        return ToolNode(tools, wrap_tool_call=self.wrap, awrap_tool_call=self.awrap, **options)

    def wrap(
        self, request: ToolCallRequest, execute: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        call = self.check(request)
        if not call.allowed:
            return self.refusal(request, call)
        return reviewed_result(self.gate, call, execute(passed_request(request, call)))

    async def awrap(
        self,
        request: ToolCallRequest,
        execute: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        call = self.check(request)
        if not call.allowed:
            return self.refusal(request, call)
        return reviewed_result(self.gate, call, await execute(passed_request(request, call)))

    def check(self, request: ToolCallRequest) -> CheckedCall:
        tool_call = request.tool_call
        args = tool_call.get("args") or {}
        if request.tool is not None:  # the state or runtime the framework injects is no argument
            args = request.tool._filter_injected_args(dict(args))
        return self.gate.check(tool_call["name"], args)

    def refusal(self, request: ToolCallRequest, call: CheckedCall) -> ToolMessage:
        if self.interrupt_held and call.decision.effect is Effect.REQUIRE_APPROVAL:
            # Pauses the graph here; resumed, the node runs again and the call is checked
            # again: approved by then, it ran above; still held, `interrupt` returns at once.
            interrupt(
                {
                    "proctor": "approval_required",
                    "tool": call.tool_name,
                    "action": call.action,
                    "args": call.passed_args,  # as the input scan left them: kept in checkpoints
                    "approval_id": approval_id(call.decision),
                    "decision_id": call.decision.decision_id,
                    "reason": call.decision.reason,
                }
            )
        return ToolMessage(
            content=self.gate.refuse(call),
            tool_call_id=request.tool_call["id"] or "",
            name=call.tool_name,
            status="error",
        )


def passed_request(request: ToolCallRequest, call: CheckedCall) -> ToolCallRequest:
    """The request the tool runs: its arguments as the input scan left them."""
    if not call.masked:
        return request
    args = call.passed_over(request.tool_call.get("args") or {})
    return request.override(tool_call={**request.tool_call, "args": args})


def reviewed_result(gate: FrameworkGate, call: CheckedCall, result: ToolResult) -> ToolResult:
    """A tool's ``ToolMessage`` (or the tool messages of its ``Command``), reviewed."""
    if isinstance(result, ToolMessage):
        return _reviewed_message(gate, call, result)
    # A `Command` updates the graph's state: the tool messages it adds are what the model reads.
    update = result.update
    if not isinstance(update, dict) or not isinstance(update.get("messages"), list):
        return result
    messages = [
        _reviewed_message(gate, call, item) if isinstance(item, ToolMessage) else item
        for item in update["messages"]
    ]
    return dataclasses.replace(result, update={**update, "messages": messages})


def _reviewed_message(gate: FrameworkGate, call: CheckedCall, message: ToolMessage) -> ToolMessage:
    reviewed = gate.review_output(call, message.content)
    if not reviewed.changed:
        return message
    update: dict[str, Any] = {"content": reviewed.value}
    if reviewed.refused:
        update |= {"status": "error", "artifact": None}
    return message.model_copy(update=update)


__all__ = ["ProctorToolCalls", "reviewed_result"]
