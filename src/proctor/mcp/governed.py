"""The requests the proxy checks before they reach a server, and reviews the answers of.

``tools/call`` (the tool's action), ``resources/read`` (``read:<server>/resource``,
the URI as the check's ``resource`` and ``args.uri``) and ``prompts/get``
(``get:<server>/prompt``, the prompt's name as ``resource``, its arguments as
``args``). Each is a check before it is sent and, when it was allowed, its
answer is reviewed as output (scanned, redacted or withheld, recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.mcp.gate import ToolGate
from proctor.mcp.jsonrpc import Message
from proctor.model.decision import Decision
from proctor.sdk.tools import ToolInfo

GOVERNED_METHODS = ("tools/call", "resources/read", "prompts/get")


@dataclass(frozen=True, slots=True)
class Governed:
    """One governed request as policy sees it."""

    method: str
    action: str
    name: str  # the tool's or the prompt's name, the resource's URI
    source: str  # where its answer's values come from, for provenance
    args: Mapping[str, Any] = field(default_factory=dict)
    resource: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_tool_call(self) -> bool:
        """Refusals of tool calls are tool results (``isError``); of others, JSON-RPC errors."""
        return self.method == "tools/call"

    @property
    def subject(self) -> str:
        if self.method == "resources/read":
            return f"the read of `{self.name}`"
        if self.method == "prompts/get":
            return f"the prompt `{self.name}`"
        return f"the call to `{self.name}`"

    def passed_on(self, message: Message, decision: Decision) -> Message:
        """The request as the server gets it: with the arguments the input scan masked.

        The decision was taken on ``args``; when a ``scan: input`` section redacted
        them, the server gets ``decision.redacted_args``, never the values in clear.
        """
        masked = decision.redacted_args
        params = message.get("params")
        if masked is None or not isinstance(params, dict):
            return message
        if self.method == "resources/read":
            changed = {**params, "uri": masked.get("uri", params.get("uri"))}
        else:
            changed = {**params, "arguments": decision.passed_args(self.args)}
        return {**message, "params": changed}


def tool_call(tool: ToolInfo, arguments: Any) -> Governed | str:
    """A ``tools/call`` of ``tool``, or what is wrong with its ``arguments``."""
    args = _arguments("tools/call", arguments)
    if isinstance(args, str):
        return args
    return Governed(
        "tools/call",
        tool.action,
        tool.name,
        tool.source,
        args,
        None,
        tool.context(),
    )


def other_request(gate: ToolGate, server: str, method: str, params: Any) -> Governed | str:
    """A ``resources/read`` or ``prompts/get`` request, or what is wrong with its params."""
    params = params if isinstance(params, Mapping) else {}
    context = {"mcp": {"server": server, "method": method}}
    if method == "resources/read":
        uri = params.get("uri")
        if not isinstance(uri, str) or not uri:
            return "resources/read needs a `uri`"
        action = gate.resource_action(server)
        return Governed(method, action, uri, uri, {"uri": uri}, uri, context)
    name = params.get("name")
    if not isinstance(name, str) or not name:
        return "prompts/get needs a prompt `name`"
    args = _arguments(method, params.get("arguments"))
    if isinstance(args, str):
        return args
    action = gate.prompt_action(server)
    return Governed(method, action, name, f"{server}/{name}", args, name, context)


def _arguments(method: str, arguments: Any) -> Mapping[str, Any] | str:
    """The arguments as policy sees them, or why they cannot be checked.

    Anything but an object (or none) would be checked as no arguments at all
    while the server got it as sent, so it is refused.
    """
    if arguments is None:
        return {}
    if isinstance(arguments, Mapping):
        return arguments
    kinds = ((bool, "a boolean"), (int | float, "a number"), (str, "a text"), (list, "a list"))
    kind = next((name for held, name in kinds if isinstance(arguments, held)), "a value")
    return f"{method} `arguments` must be an object, not {kind}"


def refusal_text(request: Governed, decision: Decision) -> str:
    """What the model reads when a request is refused: the effect, the reason and the ids."""
    if decision.requires_approval:
        approval = approval_id(decision)
        return (
            f"proctor: {request.subject} is held for a human approval: "
            f"{decision.reason}. Approval id: {approval}. Once it is approved, send the "
            f"identical {'call' if request.is_tool_call else 'request'} again. "
            f"(decision {decision.decision_id})"
        )
    return (
        f"proctor: {request.subject} was denied: {decision.reason} "
        f"(action `{request.action}`, decision {decision.decision_id})"
    )


def approval_id(decision: Decision) -> str | None:
    return next(
        (str(item["approval_id"]) for item in decision.obligations if "approval_id" in item),
        None,
    )
