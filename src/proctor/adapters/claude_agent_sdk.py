"""Claude Agent SDK: ``PreToolUse`` and ``PostToolUse`` hooks that govern every tool call.

::

    hooks = ProctorHooks(session=proctor.session(agent="dev-bot", user="alice", run_id="r-1"))
    options = ClaudeAgentOptions(mcp_servers={"shop": ...}, hooks=hooks.hooks())
    async with ClaudeSDKClient(options) as client:
        await client.query("refund order A-1")

An MCP tool (``mcp__<server>__<tool>``) is checked as ``call:<server>/<tool>``,
as through the MCP proxy; a built-in tool (``Bash``, ``Read``...) as
``call:<builtin_server>/<tool>``. ``actions`` and ``annotations`` are keyed by
server, then tool, like the proxy's config. A refused call is denied in
``PreToolUse`` (``permissionDecision: "deny"``) with the refusal as the
reason, which Claude reads (a held call names its approval id; Claude's own
``ask`` is not used, since an approval given there would bypass proctor's).
An allowed call's output is reviewed in ``PostToolUse``: a redacted output
replaces the tool's (``updatedMCPToolOutput`` / ``updatedToolOutput``), a
withheld one is replaced by the refusal and blocked (``decision: "block"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from proctor.adapters._gate import AwaitingResults, CheckedCall, FrameworkGate, missing_extra
from proctor.sdk.session import Session

try:
    from claude_agent_sdk import HookMatcher
    from claude_agent_sdk.types import HookCallback
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra(__name__, "the Claude Agent SDK", "claude-agent-sdk", exc) from exc


class ProctorHooks:
    """The two hooks, over one proctor session (else the one entered around the client)."""

    def __init__(
        self,
        *,
        builtin_server: str = "claude-code",
        actions: Mapping[str, Mapping[str, str]] | None = None,
        annotations: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
        session: Session | None = None,
    ) -> None:
        self.builtin_server = builtin_server
        self._actions = {server: dict(tools) for server, tools in (actions or {}).items()}
        self._annotations = {server: dict(tools) for server, tools in (annotations or {}).items()}
        self.session = session
        self._gates: dict[str, FrameworkGate] = {}
        self._allowed: AwaitingResults[CheckedCall] = AwaitingResults()

    def hooks(self) -> dict[str, list[HookMatcher]]:
        """``ClaudeAgentOptions(hooks=...)``: both hooks, for every tool."""
        return {
            # the hooks take any input shape and answer each event with its own fields
            "PreToolUse": [HookMatcher(hooks=[cast(HookCallback, self.pre_tool_use)])],
            "PostToolUse": [HookMatcher(hooks=[cast(HookCallback, self.post_tool_use)])],
        }

    def gate(self, server: str) -> FrameworkGate:
        if server not in self._gates:
            self._gates[server] = FrameworkGate(
                server=server,
                actions=self._actions.get(server),
                annotations=self._annotations.get(server),
                session=self.session,
            )
        return self._gates[server]

    def split(self, tool_name: str) -> tuple[str, str]:
        """``mcp__<server>__<tool>`` -> (server, tool); a built-in tool is the builtin server's."""
        if tool_name.startswith("mcp__"):
            server, separator, tool = tool_name[len("mcp__") :].partition("__")
            if separator and server and tool:
                return server, tool
        return self.builtin_server, tool_name

    def check(self, hook_input: Mapping[str, Any]) -> CheckedCall:
        name = hook_input.get("tool_name")
        server, tool = self.split(name if isinstance(name, str) else "")
        arguments = hook_input.get("tool_input")
        return self.gate(server).check(tool, arguments if isinstance(arguments, Mapping) else {})

    async def pre_tool_use(
        self, hook_input: Any, tool_use_id: str | None, context: Any
    ) -> dict[str, Any]:
        call = self.check(hook_input)
        if call.allowed:
            self._remember(tool_use_id or hook_input.get("tool_use_id"), call)
            if call.masked:
                return _masked(hook_input.get("tool_input"), call.passed_args)
            return {}  # no opinion: Claude's own permissions still apply
        return _deny(self.gate(call.tool.server).refuse(call))

    async def post_tool_use(
        self, hook_input: Any, tool_use_id: str | None, context: Any
    ) -> dict[str, Any]:
        key = tool_use_id or hook_input.get("tool_use_id")
        call = self._allowed.pop(key) if isinstance(key, str) else None
        if call is None:  # not seen before it ran (a hook added late): checked now
            call = self.check(hook_input)
            if not call.allowed:
                return _withheld(self.gate(call.tool.server).refuse(call, output=True))
        gate = self.gate(call.tool.server)
        reviewed = gate.review_output(call, hook_input.get("tool_response"))
        if not reviewed.changed:
            return {}
        if reviewed.refused:
            return _withheld(str(reviewed.value))
        return {
            "hookSpecificOutput": {
                "hookEventName": "PostToolUse",
                "updatedToolOutput": reviewed.value,
                "updatedMCPToolOutput": reviewed.value,
            }
        }

    def _remember(self, tool_use_id: Any, call: CheckedCall) -> None:
        if not isinstance(tool_use_id, str):
            return
        self._allowed.put(tool_use_id, call)


def _deny(reason: str) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }


def _masked(tool_input: Any, passed: dict[str, Any]) -> dict[str, Any]:
    # Claude Code applies `updatedInput` only with an `allow`: the policy allowed this call.
    base = dict(tool_input) if isinstance(tool_input, Mapping) else {}
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "updatedInput": {**base, **passed},
        }
    }


def _withheld(text: str) -> dict[str, Any]:
    return {
        "decision": "block",
        "reason": text,
        "hookSpecificOutput": {
            "hookEventName": "PostToolUse",
            "updatedToolOutput": text,
            "updatedMCPToolOutput": [{"type": "text", "text": text}],
        },
    }


__all__ = ["ProctorHooks"]
