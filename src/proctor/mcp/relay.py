"""``Relay``: one downstream MCP session and its upstream, message by message.

Everything passes through as it came (initialize or discover, resource and
prompt lists, progress, cancellation, results with ``structuredContent`` and
``isError``) except:

* a ``tools/call``, ``resources/read`` or ``prompts/get`` request, which is
  checked first (``governed``); a denied or held one never reaches the
  upstream and is answered with the reason and, when held, the approval id
  (a tool error for a tool call, a JSON-RPC error otherwise);
* its answer (for a task-augmented call, its ``tasks/result``), which is
  reviewed and recorded before it is passed on, exactly once;
* a ``tools/list`` result, from which tools the caller could never be allowed
  are removed; it and the ``prompts/list``, ``resources/list`` and
  ``resources/templates/list`` results have their items' descriptions scanned
  (``listings``, ``descriptions``): masked, or the item withheld and a later
  call, get or read of it refused;
* a ``tools/call`` or ``prompts/get`` of a name that only reads as a listed
  one (case, width, invisible characters), refused;
* what the server sends the client on its own (sampling and elicitation
  requests, log messages: ``descriptions.SERVER_MESSAGES``), scanned the same
  way: masked, or withheld (a request is refused back to the server);
* a request sent as a notification (no ``id``), which is dropped; a governed
  one is recorded as refused;
* a message that is not a usable JSON-RPC message (an id that is a list, an
  object, null, a boolean or a fraction), answered with ``-32600``.

Requests reach the upstream under ids of the proxy's own (``RequestIds``),
so an answer is tied to the one request it answers whatever ids the client
reuses or cancels, and an answer for no request in flight is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from proctor.mcp.channels import Channel
from proctor.mcp.contents import opened
from proctor.mcp.descriptions import LISTED, PROMPTS, RESOURCES, SERVER_MESSAGES, TOOLS, Listed
from proctor.mcp.errors import MCP_LOOK_ALIKE, MCP_MESSAGE_WITHHELD, WITHHELD
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.governed import (
    GOVERNED_METHODS,
    Governed,
    approval_id,
    other_request,
    refusal_text,
    tool_call,
)
from proctor.mcp.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    REFUSED,
    Message,
    each_message,
    error_response,
    id_problem,
    tool_error,
)
from proctor.mcp.listings import Listings
from proctor.mcp.requests import MAX_IN_FLIGHT, RequestIds
from proctor.model.decision import Decision

log = logging.getLogger("proctor.mcp")

SendDown = Callable[[Message], Awaitable[None]]
_OPENINGS = {"initialize": False, "server/discover": True}
_LOOKUP_SECONDS = 10.0
_NAMED = {"tools/call": (TOOLS, "name"), "prompts/get": (PROMPTS, "name")}
_NAMED["resources/read"] = (RESOURCES, "uri")  # what names the item a request reaches
NOTIFICATION_REFUSED = "mcp_notification_refused"


@dataclass(frozen=True, slots=True)
class _Review:
    """An allowed governed request: its answer is reviewed before the client sees it."""

    caller: Caller
    request: Governed
    decision: Decision


@dataclass(frozen=True, slots=True)
class _Listing:
    caller: Caller
    listed: Listed


@dataclass(frozen=True, slots=True)
class _Opening:
    modern: bool


_Awaited = _Review | _Listing | _Opening | asyncio.Future[Message]


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
        self._ids: RequestIds[_Awaited] = RequestIds()
        self._tasks: dict[str, _Review] = {}  # task id -> the call that created it
        self.listings = Listings(gate, server)
        self.modern = False  # the era the client and the upstream settled on

    async def from_client(self, message: Message | list[Any], caller: Caller | None = None) -> None:
        """A message from the client: checked if it is governed, else forwarded."""
        await each_message(message, self._send_down, lambda usable: self._dispatch(usable, caller))

    async def _dispatch(self, message: Message, caller: Caller | None) -> None:
        who = caller or self.caller
        if "method" not in message:  # the client's answer to a request of the server
            await self.upstream.send(message)
        elif "id" not in message:
            await self._notification(message, who)
        else:
            await self._request(message, who)

    async def _request(self, message: Message, caller: Caller) -> None:
        client_id = message["id"]
        if self._ids.in_flight(client_id):
            text = f"request id `{client_id}` is already in flight in this session"
            await self._send_down(error_response(client_id, INVALID_REQUEST, text))
            return
        if len(self._ids) >= MAX_IN_FLIGHT:
            text = f"more than {MAX_IN_FLIGHT} requests in flight in this session"
            await self._send_down(error_response(client_id, INVALID_REQUEST, text))
            return
        upstream_id = self._ids.reserve(client_id)  # before any wait: the id is taken now
        try:
            awaited = await self._awaited(message, caller)
            if isinstance(awaited, dict):  # refused: the client's answer, nothing is sent
                self._ids.release(upstream_id)
                await self._send_down(awaited)
            elif self._ids.send(upstream_id, awaited):  # else cancelled while it was checked
                if isinstance(awaited, _Review):
                    message = awaited.request.passed_on(message, awaited.decision)
                await self.upstream.send({**message, "id": upstream_id})
        except BaseException:
            self._ids.release(upstream_id)
            raise

    async def _awaited(self, message: Message, caller: Caller) -> _Awaited | Message | None:
        """What a request's answer needs (None: nothing), or the client's answer if refused."""
        method = message["method"]
        if method in GOVERNED_METHODS:
            return await self._check(message, caller)
        if method in LISTED:
            return _Listing(caller, LISTED[method])
        if method == "tasks/result":  # the deferred result of a checked call, or nothing
            task = _task_id(message.get("params"))
            found = self._tasks.get(task) if task is not None else None
            if found is not None:
                return found
            text = (
                f"task `{task}` was not created by a call of this session"
                if task is not None
                else "tasks/result needs a `taskId`"
            )
            return error_response(message["id"], INVALID_PARAMS, text)
        if method in _OPENINGS:
            return _Opening(_OPENINGS[method])
        return None

    async def _notification(self, message: Message, caller: Caller) -> None:
        method = message["method"]
        if method == "notifications/cancelled":  # no answer will come: forget the request
            params = message.get("params")
            cancelled = params.get("requestId") if isinstance(params, dict) else None
            if id_problem(cancelled) is not None:
                return
            upstream_id = self._ids.cancel(cancelled)
            if upstream_id is not None:
                assert isinstance(params, dict)
                await self.upstream.send(
                    {**message, "params": {**params, "requestId": upstream_id}}
                )
            return
        if method.startswith("notifications/"):
            await self.upstream.send(message)
            return
        # a request without an id would run unanswered, so unchecked: never relayed
        log.warning("dropped a `%s` sent as a notification (without an `id`)", method)
        if method in GOVERNED_METHODS:
            self._refuse_notification(message, caller)

    def _refuse_notification(self, message: Message, caller: Caller) -> None:
        method = message["method"]
        params = message.get("params")
        request = self._governed(method, params)
        if isinstance(request, str):  # no name or URI: recorded under the bare action
            request = Governed(method, self._action_of(method), "", "")
        reason = f"a `{method}` sent as a notification (without an `id`) is never relayed"
        try:
            self.gate.refuse(
                caller,
                request.action,
                code=NOTIFICATION_REFUSED,
                reason=reason,
                args=request.args,
                resource=request.resource,
                context=request.context,
            )
        except Exception:  # dropped either way; the log keeps what the trail could not
            log.exception("could not record a refused `%s`", method)

    async def from_upstream(self, message: Message | list[Any]) -> None:
        """A message from the upstream: answers are mapped back, and looked into."""
        if isinstance(message, list):
            for item in message:
                if isinstance(item, dict):
                    await self.from_upstream(item)
            return
        if "method" not in message:
            found = self._ids.answer(message.get("id"))
            if found is None:
                log.warning(
                    "dropped an answer to no request in flight (id `%.64s`)", message.get("id")
                )
                return
            client_id, awaited = found
            if isinstance(awaited, asyncio.Future):  # the proxy's own request
                if not awaited.done():
                    awaited.set_result(message)
                return
            message = {**message, "id": client_id}
            if isinstance(awaited, _Opening):
                if "result" in message:
                    self.modern = awaited.modern
            elif isinstance(awaited, _Listing):
                message = self.listings.answer(message, awaited.caller, awaited.listed)
            elif isinstance(awaited, _Review):
                task = _task_id(message.get("result"), key="task")
                if task is not None and awaited.request.is_tool_call:
                    self._tasks[task] = awaited  # a task-augmented call: its result comes later
                else:
                    message = self._record(message, awaited)
        elif message.get("method") in SERVER_MESSAGES:
            reviewed = await self._server_message(message)
            if reviewed is None:
                return
            message = reviewed
        elif str(message.get("method")).endswith("/list_changed"):
            self.listings.forget(str(message["method"]))  # a list changed: learn it again
        await self._send_down(message)

    async def _server_message(self, message: Message) -> Message | None:
        """A server's message as the client may get it; None when withheld (a request is
        refused back to the server)."""
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        method = str(message["method"])
        reviewed = self.gate.review_message(self.caller, self.server, method, params)
        if not reviewed.withheld:
            return message if reviewed.tool is params else {**message, "params": reviewed.tool}
        if "id" in message:  # a request sent as a notification is dropped unanswered
            data = {"code": MCP_MESSAGE_WITHHELD}
            text = f"proctor: {reviewed.reason}"
            await self.upstream.send(error_response(message["id"], REFUSED, text, data))
        return None

    async def pump(self) -> None:
        """Relay the upstream's messages downstream until it closes."""
        while (message := await self.upstream.receive()) is not None:
            await self.from_upstream(message)

    def waiting(self) -> int:
        """Requests sent upstream (or being checked) whose answer has not come yet."""
        return len(self._ids)

    async def abandon(self, reason: str) -> None:
        """The upstream is gone: every request in flight gets an error answer now."""
        for client_id, awaited in self._ids.abandon():
            answer = error_response(client_id, INTERNAL_ERROR, reason)
            if isinstance(awaited, asyncio.Future):  # the proxy's own request
                if not awaited.done():
                    awaited.set_result(answer)
            elif client_id is not None:
                await self._send_down(answer)

    # -- governed requests -----------------------------------------------------------------

    def _governed(self, method: str, params: Any) -> Governed | str:
        if method != "tools/call":
            return other_request(self.gate, self.server, method, params)
        params = params if isinstance(params, dict) else {}
        name = params.get("name")
        if not isinstance(name, str) or not name:
            return "tools/call needs a tool `name`"
        tool = self.listings.tools.get(name) or self.gate.unlisted(self.server, name)
        return tool_call(tool, params.get("arguments"))

    def _action_of(self, method: str) -> str:
        if method == "resources/read":
            return self.gate.resource_action(self.server)
        if method == "prompts/get":
            return self.gate.prompt_action(self.server)
        return f"call:{self.server}"

    async def _check(self, message: Message, caller: Caller) -> _Review | Message:
        """The review its answer needs when the request may go on, else the client's answer."""
        request_id, method = message["id"], message["method"]
        listed, key = _NAMED[method]
        params = message.get("params")
        name = params.get(key) if isinstance(params, dict) else None
        if isinstance(name, str) and name:
            assert isinstance(params, dict)
            await self.listings.look_up(listed, name, caller, params.get("_meta"), self._ask)
            unlisted = self._unlisted(message, caller, listed, name)
            if unlisted is not None:
                return unlisted
        request = self._governed(method, message.get("params"))
        if isinstance(request, str):
            return error_response(request_id, INVALID_PARAMS, request)
        try:
            decision = self.gate.check_action(
                caller,
                request.action,
                args=request.args,
                resource=request.resource,
                context=request.context,
            )
        except Exception:  # a request that cannot be checked is not made
            log.exception("could not check `%s`", request.action)
            text = f"proctor: {request.subject} could not be checked, so it was not made"
            return self._refusal(request_id, request, text, None)
        if decision.allowed:
            return _Review(caller, request, decision)
        return self._refusal(request_id, request, refusal_text(request, decision), decision)

    def _refusal(
        self, request_id: Any, request: Governed, text: str, decision: Decision | None
    ) -> Message:
        if request.is_tool_call:
            return tool_error(request_id, text, modern=self.modern)
        data: dict[str, Any] = {"action": request.action}
        if decision is not None:
            data.update(effect=decision.effect.value, decision_id=decision.decision_id)
            if (approval := approval_id(decision)) is not None:
                data["approval_id"] = approval
        return error_response(request_id, REFUSED, text, data)

    def _unlisted(
        self, message: Message, caller: Caller, listed: Listed, name: str
    ) -> Message | None:
        """A request of an item withheld from its list, or of a name that only reads as
        a listed one: refused as unlisted, recorded. None when neither."""
        withheld = self.listings.withheld(listed, name)
        meant = None if listed is RESOURCES else self.listings.look_alike(listed, name)
        unlisted = f"{listed.noun} `{name}` is not listed"
        if withheld is not None:
            code, reason = WITHHELD[listed.noun], f"{unlisted}: {withheld}"
        elif meant is None:
            return None
        elif (why := self.listings.withheld(listed, meant)) is not None:
            code, reason = MCP_LOOK_ALIKE, f"{unlisted}; it reads as `{meant}`: {why}"
        else:
            code, reason = MCP_LOOK_ALIKE, f"{unlisted}; the server lists `{meant}`"
        params = message["params"]
        if listed is TOOLS:  # recorded as the call of the tool it would have reached
            action, resource = self.gate.action(self.server, meant or name), None
        else:
            action, resource = self._action_of(message["method"]), name
        try:
            self.gate.refuse(
                caller,
                action,
                code=code,
                reason=reason,
                args=params.get("arguments"),
                resource=resource,
            )
        except Exception:  # refused either way; the log keeps what the trail could not
            log.exception("could not record the refused `%s` of `%s`", message["method"], name)
        return error_response(message["id"], INVALID_PARAMS, reason, {"code": code})

    async def _ask(self, method: str, params: dict[str, Any]) -> Message | None:
        """A request of the proxy's own (ids of its own; its answer never goes
        downstream): the answer, or None when none came in time."""
        answer: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        own_id = self._ids.own(answer)
        await self.upstream.send(
            {"jsonrpc": "2.0", "id": own_id, "method": method, "params": params}
        )
        try:
            return await asyncio.wait_for(answer, _LOOKUP_SECONDS)
        except TimeoutError:
            self._ids.release(own_id)
            return None

    def _record(self, message: Message, review: _Review) -> Message:
        if "result" not in message:
            return message  # a JSON-RPC error: the request failed before producing a result
        request = review.request
        result = opened(message["result"])  # a textual blob is reviewed, and sent, as text
        try:
            verdict = self.gate.review_result(
                review.caller, request.action, request.source, review.decision, result
            )
        except Exception:  # a result that cannot be reviewed is withheld, never passed on
            log.exception("could not review the result of `%s`", request.action)
            text = (
                f"proctor: the result of `{request.name}` could not be reviewed, so it is withheld"
            )
            return self._refusal(message["id"], request, text, None)
        if not verdict.allowed:
            held = f" Approval id: {verdict.approval_id}." if verdict.approval_id else ""
            text = f"proctor: the result of `{request.name}` is withheld: {verdict.reason}.{held}"
            return self._refusal(message["id"], request, text, None)
        if verdict.value is message["result"]:
            return message
        return {**message, "result": verdict.value}


def _task_id(value: Any, key: str | None = None) -> str | None:
    """``taskId`` of a ``tasks/result`` request's params, or of a ``CreateTaskResult``'s task."""
    holder = value.get(key) if key is not None and isinstance(value, dict) else value
    found = holder.get("taskId") if isinstance(holder, dict) else None
    return found if isinstance(found, str) else None
