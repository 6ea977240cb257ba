"""``Relay``: one downstream MCP session and its upstream, message by message.

Everything passes through as it came (initialize or discover, resources,
prompts, progress, logging, cancellation, sampling and elicitation requests
from the server, results with ``structuredContent`` and ``isError``) except:

* a ``tools/call`` request, which is checked first; a denied or held call
  never reaches the upstream and is answered with a tool error (``isError``)
  that gives the reason and, when held, the approval id;
* a ``tools/list`` result, from which tools the caller could never be allowed
  are removed;
* a ``tools/call`` result (or, for a task-augmented call, its ``tasks/result``),
  which is reviewed and recorded before it is passed on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from proctor.mcp.channels import Channel
from proctor.mcp.gate import Caller, ToolGate, ToolInfo
from proctor.mcp.jsonrpc import INVALID_PARAMS, Message, error_response, tool_error
from proctor.model.decision import Decision

log = logging.getLogger("proctor.mcp")

SendDown = Callable[[Message], Awaitable[None]]
_OPENINGS = {"initialize": False, "server/discover": True}
_LOOKUP_PAGES = 20
_LOOKUP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class _PendingCall:
    caller: Caller
    tool: ToolInfo
    decision: Decision


class Relay:
    """Relays one session between a downstream client and one upstream server."""

    def __init__(
        self,
        gate: ToolGate,
        upstream: Channel,
        send_down: SendDown,
        *,
        server: str,
        caller: Caller,
    ) -> None:
        self.gate = gate
        self.upstream = upstream
        self.server = server
        self.caller = caller
        self._send_down = send_down
        self._calls: dict[Any, _PendingCall] = {}
        self._tasks: dict[str, _PendingCall] = {}  # task id -> the call that created it
        self._lists: dict[Any, Caller] = {}
        self._tools: dict[str, ToolInfo] = {}
        self._unknown: set[str] = set()
        self._openings: dict[Any, bool] = {}  # initialize (False) or server/discover (True)
        self.modern = False  # the era the client and the upstream settled on
        self._lookups: dict[str, asyncio.Future[Message]] = {}
        self._lookup_count = 0

    async def from_client(self, message: Message | list[Any], caller: Caller | None = None) -> None:
        """A message from the client: checked if it is a tool call, else forwarded."""
        if isinstance(message, list):  # a JSON-RPC batch (2025-03-26): relayed one by one
            for item in message:
                if isinstance(item, dict):
                    await self.from_client(item, caller)
            return
        who = caller or self.caller
        method = message.get("method")
        if method == "tools/call" and "id" in message:
            await self._learn_tool(message)
            refusal = self._check_call(message, who)
            if refusal is not None:
                await self._send_down(refusal)
                return
        elif method == "tools/list" and "id" in message:
            self._lists[message["id"]] = who
        elif method == "tasks/result" and "id" in message:
            task = _task_id(message.get("params"))
            if task in self._tasks:  # the deferred result of a checked call
                self._calls[message["id"]] = self._tasks[task]
        elif method in _OPENINGS and "id" in message:
            self._openings[message["id"]] = _OPENINGS[method]
        elif method == "notifications/cancelled":  # no answer will come: forget the request
            params = message.get("params")
            cancelled = params.get("requestId") if isinstance(params, dict) else None
            if isinstance(cancelled, str | int):
                self._calls.pop(cancelled, None)
                self._lists.pop(cancelled, None)
        await self.upstream.send(message)

    async def from_upstream(self, message: Message | list[Any]) -> None:
        """A message from the upstream: results of lists and calls are looked into."""
        if isinstance(message, list):
            for item in message:
                if isinstance(item, dict):
                    await self.from_upstream(item)
            return
        if "method" not in message and "id" in message:
            request_id = message["id"]
            lookup = self._lookups.pop(request_id, None) if self._lookups else None
            if lookup is not None:
                if not lookup.done():
                    lookup.set_result(message)
                return
            lister = self._lists.pop(request_id, None)
            opening = self._openings.pop(request_id, None)
            if opening is not None and "result" in message:
                self.modern = opening
            elif lister is not None:
                message = self._filter_list(message, lister)
            else:
                pending = self._calls.pop(request_id, None)
                if pending is not None:
                    task = _task_id(message.get("result"), key="task")
                    if task is not None:  # a task-augmented call: its result comes later
                        self._tasks[task] = pending
                    else:
                        message = self._record(message, pending)
        elif message.get("method") == "notifications/tools/list_changed":
            self._tools.clear()  # the server's tools changed: learn them again
            self._unknown.clear()
        await self._send_down(message)

    async def pump(self) -> None:
        """Relay the upstream's messages downstream until it closes."""
        while (message := await self.upstream.receive()) is not None:
            await self.from_upstream(message)

    # -- tools/call ------------------------------------------------------------------------

    async def _learn_tool(self, message: Message) -> None:
        """Before checking a call of a tool this session never listed, list the tools.

        Clients that remember tool lists across sessions call without listing;
        the tool's annotations are still the upstream's, not the worst case.
        The proxy's own ``tools/list`` carries the client's ``_meta`` (its
        protocol era) and ids of its own, and its answer never goes downstream.
        """
        params = message.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        if not isinstance(name, str) or name in self._tools or name in self._unknown:
            return
        meta = params.get("_meta") if isinstance(params, dict) else None
        lookup_meta = {k: v for k, v in meta.items() if k != "progressToken"} if meta else None
        cursor: Any = None
        for _ in range(_LOOKUP_PAGES):
            self._lookup_count += 1
            lookup_id = f"proctor-tools-{self._lookup_count}"
            request_params: dict[str, Any] = {}
            if lookup_meta:
                request_params["_meta"] = lookup_meta
            if cursor is not None:
                request_params["cursor"] = cursor
            answer: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
            self._lookups[lookup_id] = answer
            await self.upstream.send(
                {
                    "jsonrpc": "2.0",
                    "id": lookup_id,
                    "method": "tools/list",
                    "params": request_params,
                }
            )
            try:
                reply = await asyncio.wait_for(answer, _LOOKUP_SECONDS)
            except TimeoutError:
                self._lookups.pop(lookup_id, None)
                break
            result = reply.get("result")
            tools = result.get("tools") if isinstance(result, dict) else None
            if not isinstance(tools, list):
                break
            for tool in tools:
                if isinstance(tool, dict):
                    info = self.gate.describe(self.server, tool)
                    self._tools[info.name] = info
            cursor = result.get("nextCursor") if isinstance(result, dict) else None
            if name in self._tools or not cursor:
                break
        if name not in self._tools:
            self._unknown.add(name)  # asked once; the worst case applies from now on

    def _check_call(self, message: Message, caller: Caller) -> Message | None:
        request_id = message["id"]
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        name = params.get("name")
        if not isinstance(name, str) or not name:
            return error_response(request_id, INVALID_PARAMS, "tools/call needs a tool `name`")
        tool = self._tools.get(name) or self.gate.unlisted(self.server, name)
        try:
            decision = self.gate.check(caller, tool, params.get("arguments"))
        except Exception:  # a call that cannot be checked does not run
            log.exception("could not check a call of `%s`", tool.action)
            text = f"proctor: the call to `{name}` could not be checked, so it was not made"
            return tool_error(request_id, text, modern=self.modern)
        if decision.allowed:
            self._calls[request_id] = _PendingCall(caller, tool, decision)
            return None
        return tool_error(request_id, refusal_text(tool, decision), modern=self.modern)

    def _record(self, message: Message, pending: _PendingCall) -> Message:
        if "result" not in message:
            return message  # a JSON-RPC error: the call failed before producing a result
        tool = pending.tool
        try:
            review = self.gate.review_result(
                pending.caller, tool, pending.decision, message["result"]
            )
        except Exception:  # a result that cannot be reviewed is withheld, never passed on
            log.exception("could not review the result of `%s`", tool.action)
            return tool_error(
                message["id"],
                f"proctor: the result of `{tool.name}` could not be reviewed, so it is withheld",
                modern=self.modern,
            )
        if not review.allowed:
            held = f" Approval id: {review.approval_id}." if review.approval_id else ""
            return tool_error(
                message["id"],
                f"proctor: the result of `{tool.name}` is withheld: {review.reason}.{held}",
                modern=self.modern,
            )
        if review.value is message["result"]:
            return message
        return {**message, "result": review.value}

    # -- tools/list ------------------------------------------------------------------------

    def _filter_list(self, message: Message, caller: Caller) -> Message:
        result = message.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
            return message
        tools = result["tools"]
        if not tools:
            return message
        described = [
            self.gate.describe(self.server, tool) if isinstance(tool, dict) else None
            for tool in tools
        ]
        known = [info for info in described if info is not None]
        for info in known:
            self._tools[info.name] = info
        shown = iter(self.gate.visible(caller, known))
        kept = [tool for tool, info in zip(tools, described, strict=True) if info and next(shown)]
        if len(kept) == len(tools):
            return message
        return {**message, "result": {**result, "tools": kept}}


def _task_id(value: Any, key: str | None = None) -> str | None:
    """``taskId`` of a ``tasks/result`` request's params, or of a ``CreateTaskResult``'s task."""
    holder = value.get(key) if key is not None and isinstance(value, dict) else value
    found = holder.get("taskId") if isinstance(holder, dict) else None
    return found if isinstance(found, str) else None


def refusal_text(tool: ToolInfo, decision: Decision) -> str:
    """What the model reads when a call is refused: the effect, the reason and the ids."""
    if decision.requires_approval:
        approval = next(
            (str(item["approval_id"]) for item in decision.obligations if "approval_id" in item),
            None,
        )
        return (
            f"proctor: the call to `{tool.name}` is held for a human approval: "
            f"{decision.reason}. Approval id: {approval}. Once it is approved, send the "
            f"identical call again. (decision {decision.decision_id})"
        )
    return (
        f"proctor: the call to `{tool.name}` was denied: {decision.reason} "
        f"(action `{tool.action}`, decision {decision.decision_id})"
    )
