"""Google ADK: ``before_tool_callback`` / ``after_tool_callback`` that govern every tool call.

::

    calls = ProctorToolCallbacks(server="shop")
    agent = LlmAgent(name="desk", model=model, tools=[lookup_order, refund],
                     before_tool_callback=calls.before_tool,
                     after_tool_callback=calls.after_tool)
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        runner.run(user_id="alice", session_id="s-1", new_message=message)

A call is checked as ``call:<server>/<tool>`` with its hints (``annotations=``,
or for an ``McpToolset``'s tools the annotations the server lists), as through
the MCP proxy. A refused call never runs: the model gets ``{"error": <the
refusal>}`` as the tool's response; ``on_block="raise"`` raises
``ActionDenied`` / ``ApprovalRequired`` out of the run. An allowed call's
response is reviewed as through the proxy in ``after_tool`` before the model
sees it: redacted, or replaced by ``{"error": ...}`` when withheld.
"""

from __future__ import annotations

from typing import Any, Unpack

from proctor.adapters import _gate
from proctor.adapters._gate import CheckedCall, FrameworkGate, GateOptions

try:
    from google.adk.tools.base_tool import BaseTool
    from google.adk.tools.tool_context import ToolContext
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise _gate.missing_extra(__name__, "Google ADK", "google-adk", exc) from exc


class ProctorToolCallbacks:
    """``before_tool`` / ``after_tool``: an ``LlmAgent``'s two tool callbacks.

    Takes ``FrameworkGate``'s keyword arguments (``server``; ``actions`` and
    ``annotations`` by tool name; ``session``, else the one entered with
    ``with proctor.session(...)`` around the run; ``on_block``).
    """

    def __init__(self, **options: Unpack[GateOptions]) -> None:
        self.gate = FrameworkGate(**options)
        # each checked call, with the refusal `before_tool` answered for it (if refused)
        self._checked: _gate.AwaitingResults[tuple[CheckedCall, dict[str, Any] | None]] = (
            _gate.AwaitingResults()
        )

    def before_tool(
        self, tool: BaseTool, args: dict[str, Any], tool_context: ToolContext
    ) -> dict[str, Any] | None:
        """``None`` lets an allowed call run; a refused one gets the refusal as its response."""
        hints = _gate.listed_annotations(getattr(tool, "raw_mcp_tool", None))
        if hints is not None:
            self.gate.learn(tool.name, hints)
        call = self.gate.check(tool.name, args)
        if call.masked:  # ADK runs the tool with this very dict: the values the scan masked
            passed = call.passed_over(args)
            args.clear()
            args.update(passed)
        refusal = None if call.allowed else {"error": self.gate.refuse(call)}
        self._checked.put(_call_key(tool, tool_context), (call, refusal))
        return refusal

    def after_tool(
        self,
        tool: BaseTool,
        args: dict[str, Any],
        tool_context: ToolContext,
        tool_response: Any,
    ) -> dict[str, Any] | None:
        """The response as the proxy would pass it: ``None`` when unchanged, else its review."""
        call, refusal = self._checked.pop(_call_key(tool, tool_context)) or (None, None)
        if call is not None and not call.allowed:
            if tool_response == refusal:  # ADK calls this with the refusal `before_tool` gave
                return None
            call = None  # a response to a refused call (a reused call id) is not passed on
        if call is None:  # a response to a call proctor never allowed is not passed on
            return {"error": _gate.unchecked_result(self.gate, tool.name)}
        reviewed = self.gate.review_output(call, tool_response)
        if reviewed.refused:
            return {"error": reviewed.value}
        if not reviewed.changed:
            return None
        value = reviewed.value
        return value if isinstance(value, dict) else {"result": value}


def _call_key(tool: BaseTool, tool_context: ToolContext) -> str:
    return f"{tool_context.function_call_id or ''}\x00{tool.name}"


__all__ = ["ProctorToolCallbacks"]
