"""Strands Agents: hooks that govern every tool call (before and after it runs).

::

    agent = Agent(model=model, tools=[lookup_order, refund], hooks=[ProctorHooks(server="shop")])
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        agent("refund order A-1")

A call is checked as ``call:<server>/<tool>`` with its hints (``annotations=``,
or for an MCP client's tools the annotations the server lists), as through the
MCP proxy. A refused call never runs: the hook cancels it with the refusal,
which the model reads as the tool's error result; ``on_block="raise"`` raises
``ActionDenied`` / ``ApprovalRequired`` out of the run. An allowed call's
result is reviewed as through the proxy before the model sees it.
"""

from __future__ import annotations

from typing import Any, Unpack

from proctor.adapters import _gate
from proctor.adapters._gate import CheckedCall, FrameworkGate, GateOptions
from proctor.model.decision import Decision, Effect

try:
    from strands.hooks import AfterToolCallEvent, BeforeToolCallEvent, HookProvider, HookRegistry
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise _gate.missing_extra(__name__, "Strands Agents", "strands", exc) from exc


class ProctorHooks(HookProvider):  # type: ignore[misc]  # typed, but not in the dev extra
    """The two hooks; takes ``FrameworkGate``'s keyword arguments (``server``; ``actions`` and
    ``annotations`` by tool name; ``session``, else the one entered with
    ``with proctor.session(...)`` around the call; ``on_block``)."""

    def __init__(self, **options: Unpack[GateOptions]) -> None:
        self.gate = FrameworkGate(**options)
        self._allowed: _gate.AwaitingResults[CheckedCall] = _gate.AwaitingResults()

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        registry.add_callback(BeforeToolCallEvent, self.before_tool_call)
        registry.add_callback(AfterToolCallEvent, self.after_tool_call)

    def before_tool_call(self, event: BeforeToolCallEvent) -> None:
        name = str(event.tool_use.get("name", ""))
        hints = _gate.listed_annotations(getattr(event.selected_tool, "mcp_tool", None))
        if hints is not None:
            self.gate.learn(name, hints)
        tool_input = event.tool_use.get("input")
        if not isinstance(tool_input, dict):
            call = self.gate.check(name, {})
            call = call.with_decision(
                Decision(
                    Effect.DENY,
                    f"the arguments of `{name}` are not an object",
                    code="invalid_arguments",
                )
            )
        else:
            call = self.gate.check(name, tool_input)
        key = str(event.tool_use.get("toolUseId", ""))
        self._allowed.pop(key)  # a reused id never inherits an earlier allowed call
        if not call.allowed:
            event.cancel_tool = self.gate.refuse(call)
            return
        if call.masked:  # the tool runs with `tool_use` as the hook leaves it
            event.tool_use = {**event.tool_use, "input": call.passed_over(tool_input)}
        self._allowed.put(key, call)

    def after_tool_call(self, event: AfterToolCallEvent) -> None:
        key = str(event.tool_use.get("toolUseId", ""))
        call = self._allowed.pop(key)
        if event.cancel_message is not None:  # refused (by this hook or another): never ran
            return
        if call is None:  # a result of a call proctor never allowed is not passed on
            name = str(event.tool_use.get("name", ""))
            event.result = _error_result(key, _gate.unchecked_result(self.gate, name))
            return
        # everything the model may read: the content, and an MCP tool's `structuredContent`
        readable = {k: v for k, v in event.result.items() if k not in ("toolUseId", "status")}
        reviewed = self.gate.review_output(call, readable)
        if reviewed.refused:
            event.result = _error_result(key, str(reviewed.value))
        elif reviewed.changed and isinstance(reviewed.value, dict):
            event.result = {**event.result, **reviewed.value}
        elif reviewed.changed:  # reviewed into another shape: text is what the model reads
            event.result = {**event.result, "content": [{"text": str(reviewed.value)}]}
            event.result.pop("structuredContent", None)


def _error_result(tool_use_id: str, text: str) -> Any:
    return {"toolUseId": tool_use_id, "status": "error", "content": [{"text": text}]}


__all__ = ["ProctorHooks"]
