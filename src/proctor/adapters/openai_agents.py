"""OpenAI Agents SDK: tool guardrails for function tools, and governed MCP servers.

Function tools are checked by a tool input guardrail (before the tool runs)
and reviewed by a tool output guardrail (after)::

    guard = ProctorGuardrails(server="shop", annotations={"lookup_order": {"readOnlyHint": True}})
    agent = Agent(name="support", tools=guard.govern([refund, lookup_order]))
    with proctor.session(agent="support-bot", user="alice", run_id="ticket-7"):
        await Runner.run(agent, "refund order A-1")

MCP tools are checked in ``call_tool`` itself, so every call the server makes
is governed, listed or not; the server's ``name`` is the ``<server>`` of
``call:<server>/<tool>`` and its listed annotations are the tools' hints, as
through the MCP proxy::

    server = GovernedMCPServerStdio({"command": "mcp-server-time"}, name="time")

A refused call leaves the model a tool message naming the reason (and the
approval id when a person must approve); ``on_block="raise"`` raises instead.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Unpack

from proctor.adapters._gate import (
    CheckedCall,
    FrameworkGate,
    GateOptions,
    OnBlock,
    missing_extra,
)
from proctor.model.decision import Decision, Effect
from proctor.sdk.errors import ToolCallBlocked
from proctor.sdk.session import Session

try:
    from agents import FunctionTool, Tool
    from agents.mcp import MCPServerSse, MCPServerStdio, MCPServerStreamableHttp
    from agents.tool_context import ToolContext
    from agents.tool_guardrails import (
        ToolGuardrailFunctionOutput,
        ToolInputGuardrail,
        ToolInputGuardrailData,
        ToolOutputGuardrail,
        ToolOutputGuardrailData,
    )
    from mcp.types import CallToolResult, TextContent
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "the OpenAI Agents SDK", "openai-agents", exc) from exc


class ProctorGuardrails:
    """A tool input and a tool output guardrail that check calls with proctor.

    ``server`` names the tools' server (actions ``call:<server>/<tool>``),
    ``actions`` maps a tool name to another action and ``annotations`` a tool
    name to its MCP hints (as ``FrameworkGate`` reads them). The session is
    ``session`` when given, else the run context's value when it is a proctor
    ``Session`` (``Runner.run(agent, ..., context=session)``), else the one
    entered with ``with proctor.session(...)``.
    """

    def __init__(self, **options: Unpack[GateOptions]) -> None:
        self.gate = FrameworkGate(**options)
        self.input_guardrail: ToolInputGuardrail[Any] = ToolInputGuardrail(
            guardrail_function=self._check_input, name="proctor_input"
        )
        self.output_guardrail: ToolOutputGuardrail[Any] = ToolOutputGuardrail(
            guardrail_function=self._review_output, name="proctor_output"
        )
        # Allowed calls by tool call id, so the output review links to the input's decision.
        self._allowed: OrderedDict[str, CheckedCall] = OrderedDict()
        self._swapping: set[str] = set()  # tools whose invoker takes the masked arguments

    def govern(self, tools: Iterable[Tool]) -> list[Tool]:
        """The function tools with both guardrails added (the originals are left unchanged).

        Hosted tools (web search, code interpreter...) run on the model provider's
        side where no guardrail reaches; they are refused here rather than left
        ungoverned.
        """
        governed: list[Tool] = []
        for tool in tools:
            if not isinstance(tool, FunctionTool):
                raise TypeError(
                    f"`{getattr(tool, 'name', tool)}` is not a function tool; proctor's guardrails"
                    " reach function tools only (govern MCP tools with GovernedMCPServerStdio or"
                    " GovernedMCPServerStreamableHttp)"
                )
            governed.append(self.govern_tool(tool))
        return governed

    def govern_tool(self, tool: FunctionTool) -> FunctionTool:
        self._swapping.add(tool.name)
        return dataclasses.replace(
            tool,
            on_invoke_tool=self._masked_invoker(tool.on_invoke_tool),
            tool_input_guardrails=[*(tool.tool_input_guardrails or ()), self.input_guardrail],
            tool_output_guardrails=[*(tool.tool_output_guardrails or ()), self.output_guardrail],
        )

    def _masked_invoker(
        self, invoke: Callable[[ToolContext[Any], str], Awaitable[Any]]
    ) -> Callable[[ToolContext[Any], str], Awaitable[Any]]:
        """``invoke`` given the arguments the input guardrail checked, as its scan left them.

        A guardrail can only allow or reject a call; the tool reads the model's
        arguments itself, so a masked call's arguments are swapped in here.
        """

        async def invoke_checked(context: ToolContext[Any], arguments: str) -> Any:
            call = self._allowed.get(context.tool_call_id)
            if call is not None and call.masked:
                arguments = json.dumps(call.passed_args, ensure_ascii=False)
            return await invoke(context, arguments)

        return invoke_checked

    def _gate_for(self, data: ToolInputGuardrailData) -> FrameworkGate:
        context = data.context.context
        if self.gate.session is None and isinstance(context, Session):
            return self.gate.with_session(context)
        return self.gate

    def _check_input(self, data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
        gate = self._gate_for(data)
        call = gate.check_json(data.context.tool_name, data.context.tool_arguments)
        if call.masked and data.context.tool_name not in self._swapping:
            # The guardrail given to a tool directly: nothing would hand the tool the masked
            # arguments, and it would read the ones in clear.
            return _refusal(gate, call.with_decision(_unmaskable(call)))
        if call.allowed:
            self._remember(data.context.tool_call_id, call)
            return ToolGuardrailFunctionOutput.allow(output_info=call.decision)
        return _refusal(gate, call)

    def _review_output(self, data: ToolOutputGuardrailData) -> ToolGuardrailFunctionOutput:
        gate = self._gate_for(data)
        call = self._allowed.pop(data.context.tool_call_id, None)
        if call is None:
            # The input guardrail did not see this call (the output guardrail given alone, or a
            # run resumed from saved state): check it now, so no result goes unreviewed.
            call = gate.check_json(data.context.tool_name, data.context.tool_arguments)
            if not call.allowed:
                return _refusal(gate, call)
        try:
            reviewed = gate.review_output(call, data.output)
        except ToolCallBlocked as blocked:
            return ToolGuardrailFunctionOutput.raise_exception(output_info=blocked)
        if not reviewed.changed:
            return ToolGuardrailFunctionOutput.allow()
        # The SDK lets an output guardrail replace the result only through `reject_content`.
        return ToolGuardrailFunctionOutput.reject_content(
            _as_text(reviewed.value), output_info={"refused": reviewed.refused}
        )

    def _remember(self, tool_call_id: str, call: CheckedCall) -> None:
        self._allowed[tool_call_id] = call
        while len(self._allowed) > _REMEMBERED_CALLS:
            self._allowed.popitem(last=False)


_REMEMBERED_CALLS = 4096


class _GovernedCallTool:
    """``call_tool`` checked with proctor before the MCP server sees it."""

    _proctor_gate: FrameworkGate

    def __init__(
        self,
        *args: Any,
        actions: Mapping[str, str] | None = None,
        proctor_session: Session | None = None,
        on_block: OnBlock = "message",
        **kwargs: Any,
    ) -> None:
        name = kwargs.get("name")
        if not isinstance(name, str) or not name:
            # The proxy's `call:<server>/<tool>` needs the server's name; the SDK's default
            # (`stdio: <command>`) is no name a policy could be written for.
            raise TypeError("a governed MCP server needs `name=`, the <server> of its actions")
        super().__init__(*args, **kwargs)  # the SDK's server class, next in the MRO
        self._proctor_gate = FrameworkGate(
            server=name,
            actions=actions,
            session=proctor_session,
            on_block=on_block,
            listed_only=True,
        )

    async def list_tools(self, *args: Any, **kwargs: Any) -> list[Any]:
        tools: list[Any] = await super().list_tools(*args, **kwargs)  # type: ignore[misc]
        for tool in tools:  # the hints the proxy would read from the same list
            hints = tool.annotations
            self._proctor_gate.learn(
                tool.name,
                hints.model_dump(by_alias=True, exclude_none=True) if hints is not None else {},
            )
        return tools

    async def call_tool(
        self,
        tool_name: str,
        arguments: dict[str, Any] | None,
        meta: dict[str, Any] | None = None,
    ) -> CallToolResult:
        gate = self._proctor_gate
        call = gate.check(tool_name, arguments)
        if not call.allowed:
            return _error_result(gate.refuse(call))
        passed = call.passed_args if call.masked else arguments  # as the input scan left them
        result: CallToolResult = await super().call_tool(  # type: ignore[misc]
            tool_name, passed, meta
        )
        return _reviewed_result(gate, call, result)


class GovernedMCPServerStdio(_GovernedCallTool, MCPServerStdio):
    """``MCPServerStdio`` whose every ``call_tool`` is checked with proctor first.

    Takes ``MCPServerStdio``'s arguments (``name`` is required: the ``<server>``
    of ``call:<server>/<tool>``), and ``actions`` (tool name to another action),
    ``proctor_session`` (else the session
    entered with ``with proctor.session(...)``) and ``on_block``.
    """


class GovernedMCPServerStreamableHttp(_GovernedCallTool, MCPServerStreamableHttp):
    """``MCPServerStreamableHttp`` whose every ``call_tool`` is checked with proctor first."""


class GovernedMCPServerSse(_GovernedCallTool, MCPServerSse):
    """``MCPServerSse`` whose every ``call_tool`` is checked with proctor first."""


def _refusal(gate: FrameworkGate, call: CheckedCall) -> ToolGuardrailFunctionOutput:
    """Reject with a message for the model, or trip the SDK's wire (``on_block="raise"``)."""
    try:
        message = gate.refuse(call)
    except ToolCallBlocked as blocked:
        return ToolGuardrailFunctionOutput.raise_exception(output_info=blocked)
    return ToolGuardrailFunctionOutput.reject_content(message, output_info=call.decision)


def _unmaskable(call: CheckedCall) -> Decision:
    return Decision(
        Effect.DENY,
        f"the input scan masked arguments of `{call.tool_name}`, which only a tool governed "
        "with `ProctorGuardrails.govern` is given",
        decision_id=call.decision.decision_id,
        code="masked_args_unsupported",
    )


def _error_result(message: str) -> CallToolResult:
    # An MCP tool error: the SDK hands its text to the model as the tool's output.
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def _reviewed_result(
    gate: FrameworkGate, call: CheckedCall, result: CallToolResult
) -> CallToolResult:
    body = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    reviewed = gate.review_output(call, body)
    if not reviewed.changed:
        return result
    if reviewed.refused:
        return _error_result(_as_text(reviewed.value))
    return CallToolResult.model_validate(reviewed.value)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=repr)


__all__ = [
    "GovernedMCPServerSse",
    "GovernedMCPServerStdio",
    "GovernedMCPServerStreamableHttp",
    "ProctorGuardrails",
]
