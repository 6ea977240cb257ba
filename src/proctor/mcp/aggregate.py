"""``Aggregate``: several upstream servers behind one client session.

Tools and prompts are renamed ``<server>__<name>``; resources keep their URIs
and are routed to the server that listed them. Each upstream has a ``Relay``
of its own, so checks, list filtering and result reviews are the same as with
one server (the action of ``git__git_status`` is ``call:git/git_status``).

The proxy answers ``initialize`` itself from the upstreams' answers (the
capabilities merged, the protocol version of the first server), so this mode
is handshake-era only: ``server/discover`` is answered "method not found".
Requests a server sends to the client (sampling, elicitation, roots) get ids
of the proxy's own so that two servers' ids cannot collide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from proctor.mcp.channels import Channel
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    Message,
    each_message,
    error_response,
    id_problem,
    is_request,
    is_response,
    tool_error,
)
from proctor.mcp.relay import Relay, SendDown

log = logging.getLogger("proctor.mcp")

SEPARATOR = "__"
_LISTS = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
}
_PREFIXED = {"tools", "prompts"}  # list keys whose items are renamed
_PAGES = 20
_ANSWER_SECONDS = 60.0


@dataclass
class _Gather:
    """Answers awaited from several servers to one request of the proxy's."""

    waiting: set[str]
    answers: dict[str, Message] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Aggregate:
    def __init__(
        self,
        gate: ToolGate,
        upstreams: Mapping[str, Channel],
        send_down: SendDown,
        *,
        caller: Caller,
    ) -> None:
        self._send_down = send_down
        self.caller = caller
        self.relays = {
            name: Relay(gate, channel, self._receiver(name), server=name, caller=caller)
            for name, channel in upstreams.items()
        }
        self._gathers: dict[tuple[str, Any], _Gather] = {}
        self._outbound: dict[Any, str] = {}  # client request id -> server
        self._inbound: dict[str, tuple[str, Any]] = {}  # our id -> (server, its id)
        self._resources: dict[str, str] = {}  # uri -> server
        self._counter = 0

    async def pump(self) -> None:
        """Relay every upstream's messages until the first one closes."""
        tasks = [asyncio.create_task(relay.pump()) for relay in self.relays.values()]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()

    def waiting(self) -> int:
        return sum(relay.waiting() for relay in self.relays.values())

    async def abandon(self, reason: str) -> None:
        for relay in self.relays.values():
            await relay.abandon(reason)

    # -- from the client ---------------------------------------------------------------------

    async def from_client(self, message: Message | list[Any], caller: Caller | None = None) -> None:
        await each_message(message, self._send_down, lambda usable: self._dispatch(usable, caller))

    async def _dispatch(self, message: Message, caller: Caller | None) -> None:
        who = caller or self.caller
        if is_response(message):
            await self._answer_server(message)
        elif is_request(message):
            await self._request(message, who)
        else:
            await self._notify(message, who)

    async def _request(self, message: Message, caller: Caller) -> None:
        method = message.get("method")
        request_id = message["id"]
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        assert isinstance(params, dict)
        if request_id in self._outbound:  # routed to a server and not answered yet
            text = f"request id `{request_id}` is already in flight in this session"
            await self._send_down(error_response(request_id, INVALID_REQUEST, text))
        elif method == "initialize":
            await self._send_down(await self._initialize(message, caller))
        elif method == "ping":
            await self._send_down({"jsonrpc": "2.0", "id": request_id, "result": {}})
        elif method in _LISTS:
            await self._send_down(await self._list(message, caller, _LISTS[str(method)]))
        elif method == "logging/setLevel":
            await self._gather_all(message, caller)
            await self._send_down({"jsonrpc": "2.0", "id": request_id, "result": {}})
        elif method in ("tools/call", "prompts/get"):
            await self._by_name(message, params, caller)
        elif method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
            await self._by_uri(message, str(params.get("uri", "")), caller)
        elif method == "completion/complete":
            ref = params.get("ref") if isinstance(params.get("ref"), dict) else {}
            assert isinstance(ref, dict)
            if ref.get("type") == "ref/prompt":
                await self._by_name(message, params, caller, key=("ref", "name"))
            else:
                await self._by_uri(message, str(ref.get("uri", "")), caller)
        else:
            await self._send_down(
                error_response(
                    request_id, METHOD_NOT_FOUND, f"`{method}` is not relayed to several servers"
                )
            )

    async def _notify(self, message: Message, caller: Caller) -> None:
        method = message["method"]
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        assert isinstance(params, dict)
        if method == "notifications/cancelled":
            cancelled = params.get("requestId")
            server = self._outbound.pop(cancelled, None) if id_problem(cancelled) is None else None
            targets = [self.relays[server]] if server in self.relays else []
        elif method.startswith("notifications/"):
            targets = list(self.relays.values())
        else:  # a request without an id: the server's relay drops it (and records a governed one)
            found = self._route(message, params)
            if found is None:
                log.warning("dropped a `%s` sent as a notification (without an `id`)", method)
                return
            server, message = found
            targets = [self.relays[server]]
        for relay in targets:
            await relay.from_client(message, caller)

    def _route(self, message: Message, params: dict[str, Any]) -> tuple[str, Message] | None:
        """The server a request names (a prefixed tool or prompt, a listed URI) and its message."""
        method = message.get("method")
        if method in ("tools/call", "prompts/get"):
            name = params.get("name")
            server, _, local = name.partition(SEPARATOR) if isinstance(name, str) else ("", "", "")
            if server not in self.relays or not local:
                return None
            return server, {**message, "params": {**params, "name": local}}
        uri = params.get("uri")
        if method == "resources/read" and isinstance(uri, str):
            found = self._resources.get(uri) or _by_scheme(uri, self._resources)
            return (found, message) if found is not None else None
        return None

    async def _answer_server(self, message: Message) -> None:
        found = self._inbound.pop(str(message["id"]), None)
        if found is None:
            log.warning("dropped a response to an unknown server request `%s`", message["id"])
            return
        server, original = found
        await self.relays[server].from_client({**message, "id": original})

    # -- routing -----------------------------------------------------------------------------

    async def _by_name(
        self,
        message: Message,
        params: dict[str, Any],
        caller: Caller,
        key: tuple[str, ...] = ("name",),
    ) -> None:
        holder: Any = params
        for step in key[:-1]:
            holder = holder.get(step) if isinstance(holder.get(step), dict) else {}
        name = holder.get(key[-1])
        server, _, local = str(name).partition(SEPARATOR)
        if not isinstance(name, str) or server not in self.relays or not local:
            text = f"unknown `{name}`: names here are `<server>{SEPARATOR}<name>`"
            reply = (
                tool_error(message["id"], f"proctor: {text}")
                if message.get("method") == "tools/call"
                else error_response(message["id"], INVALID_PARAMS, text)
            )
            await self._send_down(reply)
            return
        renamed = _replace_path(params, key, local)
        self._outbound[message["id"]] = server
        await self.relays[server].from_client({**message, "params": renamed}, caller)

    async def _by_uri(self, message: Message, uri: str, caller: Caller) -> None:
        server = self._resources.get(uri) or _by_scheme(uri, self._resources)
        if server is None:
            await self._send_down(
                error_response(message["id"], INVALID_PARAMS, f"no server listed `{uri}`")
            )
            return
        self._outbound[message["id"]] = server
        await self.relays[server].from_client(message, caller)

    # -- from the servers --------------------------------------------------------------------

    def _receiver(self, server: str) -> SendDown:
        async def receive(message: Message) -> None:
            if is_response(message):
                gather = self._gathers.get((server, message["id"]))
                if gather is not None:
                    gather.answers[server] = message
                    gather.waiting.discard(server)
                    if not gather.waiting:
                        gather.done.set()
                    return
                self._outbound.pop(message["id"], None)
            elif is_request(message):
                self._counter += 1
                ours = f"proctor-{server}-{self._counter}"
                self._inbound[ours] = (server, message["id"])
                message = {**message, "id": ours}
            await self._send_down(message)

        return receive

    async def _gather(
        self, servers: Sequence[str], message: Message, caller: Caller
    ) -> dict[str, Message]:
        """Send ``message`` to ``servers`` (through their relays); their answers."""
        gather = _Gather(set(servers))
        for server in servers:
            self._gathers[(server, message["id"])] = gather
        try:
            for server in servers:
                await self.relays[server].from_client(message, caller)
            await asyncio.wait_for(gather.done.wait(), _ANSWER_SECONDS)
        except TimeoutError:
            log.warning("no answer to `%s` from %s", message.get("method"), gather.waiting)
        finally:
            for server in servers:
                self._gathers.pop((server, message["id"]), None)
        return gather.answers

    async def _gather_all(self, message: Message, caller: Caller) -> dict[str, Message]:
        return await self._gather(list(self.relays), message, caller)

    async def _initialize(self, message: Message, caller: Caller) -> Message:
        answers = await self._gather_all(message, caller)
        failed = [name for name in self.relays if "result" not in answers.get(name, {})]
        if failed:
            names = ", ".join(f"`{name}`" for name in failed)
            return error_response(message["id"], -32603, f"servers {names} did not initialize")
        results = [answers[name]["result"] for name in self.relays]
        versions = {result.get("protocolVersion") for result in results}
        if len(versions) > 1:
            log.warning("the servers chose different protocol versions: %s", sorted(versions))
        capabilities: dict[str, Any] = {}
        for result in results:
            _merge(capabilities, result.get("capabilities") or {})
        instructions = [
            f"{name}: {answers[name]['result']['instructions']}"
            for name in self.relays
            if answers[name]["result"].get("instructions")
        ]
        merged: dict[str, Any] = {
            "protocolVersion": results[0].get("protocolVersion"),
            "capabilities": capabilities,
            "serverInfo": {"name": "proctor-mcp-proxy", "version": "1"},
        }
        if instructions:
            merged["instructions"] = "\n".join(instructions)
        return {"jsonrpc": "2.0", "id": message["id"], "result": merged}

    async def _list(self, message: Message, caller: Caller, key: str) -> Message:
        """Every page of every server, merged into one page."""
        items: list[Any] = []
        for server in self.relays:
            cursor: Any = None
            for _ in range(_PAGES):
                self._counter += 1
                params = dict(message.get("params") or {})
                params.pop("cursor", None)
                if cursor is not None:
                    params["cursor"] = cursor
                page = {**message, "id": f"proctor-list-{self._counter}", "params": params}
                answer = (await self._gather([server], page, caller)).get(server, {})
                result = answer.get("result")
                if not isinstance(result, dict):
                    break
                for item in result.get(key) or []:
                    if isinstance(item, dict):
                        items.append(self._claim(server, key, item))
                cursor = result.get("nextCursor")
                if not cursor:
                    break
        return {"jsonrpc": "2.0", "id": message["id"], "result": {key: items}}

    def _claim(self, server: str, key: str, item: dict[str, Any]) -> dict[str, Any]:
        if key in _PREFIXED:
            return {**item, "name": f"{server}{SEPARATOR}{item.get('name')}"}
        uri = item.get("uri") or item.get("uriTemplate")
        if isinstance(uri, str):
            self._resources.setdefault(uri, server)
        return item


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = dict(value)
        elif isinstance(value, bool):
            into[key] = bool(into.get(key)) or value
        else:
            into.setdefault(key, value)


def _replace_path(params: dict[str, Any], key: tuple[str, ...], value: str) -> dict[str, Any]:
    if len(key) == 1:
        return {**params, key[0]: value}
    inner = params.get(key[0]) if isinstance(params.get(key[0]), dict) else {}
    assert isinstance(inner, dict)
    return {**params, key[0]: _replace_path(inner, key[1:], value)}


def _by_scheme(uri: str, known: Mapping[str, str]) -> str | None:
    """The server of a resource never listed: the one whose listed URIs share its scheme."""
    scheme = uri.partition("://")[0]
    servers = {server for listed, server in known.items() if listed.startswith(scheme + "://")}
    return servers.pop() if len(servers) == 1 else None
