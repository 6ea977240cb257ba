"""PydanticAI: a toolset wrapper that checks every tool call before it runs.

Wrap any toolset (function tools, an MCP server) or a list of functions::

    tools = ProctorToolset.of([lookup_order, refund], server="shop")
    agent = Agent(model, toolsets=[tools])
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        agent.run_sync("refund order A-1")

A tool's action is ``call:<server>/<tool>`` and its hints are ``annotations=``
(or, for an MCP server's tools, the annotations the server lists), as through
the MCP proxy. A refused call gives the model the refusal as the tool's result;
``on_block="raise"`` raises ``ActionDenied`` / ``ApprovalRequired`` out of the
run; ``on_block="defer"`` turns a held call into PydanticAI's own deferred
approval (the run ends with ``DeferredToolRequests``; once a person approves
in proctor, run again with ``DeferredToolResults(approvals={id: True})`` and
the identical call, checked again, goes through). Results are reviewed as
through the proxy before the model sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Unpack

from proctor.adapters._gate import FrameworkGate, ToolOptions, approval_id, missing_extra
from proctor.model.decision import Effect
from proctor.sdk.session import Session

try:
    from pydantic_ai import RunContext
    from pydantic_ai.exceptions import ApprovalRequired as DeferApproval
    from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, WrapperToolset
    from pydantic_ai.toolsets.abstract import ToolsetTool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "PydanticAI", "pydantic-ai", exc) from exc

OnBlockOrDefer = Literal["message", "raise", "defer"]


@dataclass
class ProctorToolset(WrapperToolset[Any]):
    """``wrapped`` with each call checked by proctor first and each result reviewed after.

    The session is the gate's when given, else the run's ``deps`` when it is a
    proctor ``Session`` (``agent.run(..., deps=session)``), else the one entered
    with ``with proctor.session(...)``.
    """

    gate: FrameworkGate = field(kw_only=True)
    defer_held: bool = field(default=False, kw_only=True)

    @classmethod
    def wrap(
        cls,
        toolset: AbstractToolset[Any],
        *,
        on_block: OnBlockOrDefer = "message",
        **options: Unpack[ToolOptions],
    ) -> ProctorToolset:
        if on_block not in ("message", "raise", "defer"):
            raise ValueError(f"on_block must be `message`, `raise` or `defer`, not `{on_block}`")
        gate = FrameworkGate(on_block="raise" if on_block == "raise" else "message", **options)
        return cls(toolset, gate=gate, defer_held=on_block == "defer")

    @classmethod
    def of(cls, tools: Sequence[Callable[..., Any]], **options: Any) -> ProctorToolset:
        """Plain functions as a governed toolset (``FunctionToolset(tools)``, wrapped)."""
        return cls.wrap(FunctionToolset(list(tools)), **options)

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        gate = self.gate
        if gate.session is None and isinstance(ctx.deps, Session):
            gate = gate.with_session(ctx.deps)
        metadata = tool.tool_def.metadata or {}
        if "annotations" in metadata:  # an MCP server's tool: the hints it listed
            gate.learn(name, metadata["annotations"] or {})
        call = gate.check(name, tool_args)
        if not call.allowed:
            held = call.decision.effect is Effect.REQUIRE_APPROVAL
            if self.defer_held and held and not ctx.tool_call_approved:
                # PydanticAI's own pause; an approval there alone runs nothing: the call
                # is checked again when the run resumes.
                raise DeferApproval(
                    metadata={
                        "action": call.action,
                        "approval_id": approval_id(call.decision),
                        "decision_id": call.decision.decision_id,
                        "reason": call.decision.reason,
                    }
                )
            return gate.refuse(call)
        result = await super().call_tool(name, call.passed_args, ctx, tool)  # masked, if scanned
        return gate.review_output(call, result).value


__all__ = ["ProctorToolset"]
