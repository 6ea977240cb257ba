"""smolagents: a tool wrapper for any ``Tool`` (``@tool`` functions included).

::

    tools = governed_tools([lookup_order, refund], server="shop")
    agent = ToolCallingAgent(tools=tools, model=model)
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        agent.run("refund order A-1")

The wrapper keeps the tool's name, description, inputs and output type, so the
model (or the code a ``CodeAgent`` writes) sees the same tool. A call is
checked as ``call:<server>/<tool>`` with its hints (``annotations=``), as
through the MCP proxy; a refused call returns the refusal as the tool's
output; ``on_block="raise"`` raises ``ActionDenied`` / ``ApprovalRequired``,
which the agent reports to the model as a tool error. Results are reviewed as
through the proxy before the model sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Unpack

from proctor.adapters._gate import FrameworkGate, GateOptions, call_arguments, missing_extra

try:
    from smolagents import Tool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "smolagents", "smolagents", exc) from exc


class GovernedTool(Tool):  # type: ignore[misc]  # smolagents ships no types
    """``inner`` run only when proctor allows the call; its output reviewed before it returns."""

    skip_forward_signature_validation = True  # `forward` takes what `inner` takes

    def __init__(self, inner: Tool, gate: FrameworkGate) -> None:
        self.name = inner.name
        self.description = inner.description
        self.inputs = inner.inputs
        self.output_type = inner.output_type
        self.output_schema = getattr(inner, "output_schema", None)
        self.inner = inner
        self.gate = gate
        super().__init__()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        call = self.gate.check(self.name, call_arguments(args, kwargs))
        if not call.allowed:
            return self.gate.refuse(call)
        args, kwargs = call.passed_call(args, kwargs)
        return self.gate.review_output(call, self.inner(*args, **kwargs)).value


def governed_tools(tools: Iterable[Any], **options: Unpack[GateOptions]) -> list[GovernedTool]:
    """Each of ``tools`` governed through one gate (``FrameworkGate``'s keyword arguments:
    ``server``, and ``actions`` and ``annotations`` by tool name, ``session``, ``on_block``)."""
    gate = FrameworkGate(**options)
    return [GovernedTool(tool, gate) for tool in tools]


__all__ = ["GovernedTool", "governed_tools"]
