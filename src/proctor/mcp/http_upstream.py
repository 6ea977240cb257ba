"""An upstream MCP server reached over Streamable HTTP (the ``mcp`` SDK's client transport).

The SDK's transport handles the HTTP side (session id, SSE responses, the GET
stream, resumption); the proxy converts between its plain-dict messages and
the SDK's message models, and stamps every message after the handshake with
the negotiated ``MCP-Protocol-Version`` (MCP 2025-06-18, "Transports" §2.7):
mcp 2.x's transport sends only the header its session stamps, and without it
the upstream assumes 2025-03-26 and sends no event ids, so a stream it closes
mid-call could not be resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import anyio
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import ClientMessageMetadata, SessionMessage

from proctor.mcp.errors import MCP_UPSTREAM, McpProxyError
from proctor.mcp.jsonrpc import Message

log = logging.getLogger("proctor.mcp")
_CLOSE_SECONDS = 5.0
PROTOCOL_VERSION_HEADER = "mcp-protocol-version"


class HttpUpstreamChannel:
    """The SDK's transport runs in a task of its own, so when it fails (an unreachable URL,
    a server that dies) its cancel scope ends that task only: the session gets a clean end
    (``receive`` returns None) and ``failure`` says what happened, naming the URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.failure: McpProxyError | None = None
        self._inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._handshake_id: Any = None  # the id of the `initialize` sent upstream
        self.protocol_version: str | None = None  # what the upstream answered it with

    @classmethod
    async def connect(cls, url: str) -> HttpUpstreamChannel:
        channel = cls(url)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        channel._task = asyncio.create_task(channel._run(ready))
        await ready  # raises the failure when the transport cannot even be set up
        return channel

    async def _run(self, ready: asyncio.Future[None]) -> None:
        try:
            async with streamable_http_client(self.url) as streams:
                read, write = streams[0], streams[1]  # mcp 1.x adds a session-id getter
                if not ready.done():
                    ready.set_result(None)
                async with anyio.create_task_group() as group:
                    group.start_soon(self._reading, read)
                    await self._writing(write)
                    group.cancel_scope.cancel()
        except BaseException as exc:  # the SDK's task group: an ExceptionGroup, or cancelled
            if self._closing:
                if not isinstance(exc, Exception):
                    raise  # our own cancellation, from close()
                return
            # an error, or the CancelledError of the transport's own scope: either way the
            # upstream is gone, and the failure (not a traceback) says so
            self.failure = McpProxyError(
                f"the upstream server at `{self.url}` is unreachable or failed: {_cause(exc)}",
                code=MCP_UPSTREAM,
            )
            log.error("%s", self.failure.message)
            if not ready.done():
                ready.set_exception(self.failure)
        finally:
            if not ready.done():
                ready.set_result(None)
            self._inbox.put_nowait(None)

    async def _reading(self, read: Any) -> None:
        async for item in read:
            if isinstance(item, Exception):
                log.warning("the upstream sent something that is not a message: %s", item)
                continue
            dumped: Message = item.message.model_dump(
                by_alias=True, exclude_unset=True, mode="json"
            )
            self._note_version(dumped)
            await self._inbox.put(dumped)
        self._inbox.put_nowait(None)

    async def _writing(self, write: Any) -> None:
        while (message := await self._outbox.get()) is not None:
            parsed = _parsed(message)
            if message.get("method") == "initialize":
                self._handshake_id, self.protocol_version = message.get("id"), None
            try:
                await write.send(SessionMessage(parsed, metadata=self._stamp()))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                log.debug("the upstream connection is closed")
                return

    def _note_version(self, message: Message) -> None:
        if self._handshake_id is None or "method" in message:
            return
        if message.get("id") != self._handshake_id:
            return
        result = message.get("result")
        version = result.get("protocolVersion") if isinstance(result, dict) else None
        self.protocol_version = version if isinstance(version, str) else None

    def _stamp(self) -> ClientMessageMetadata | None:
        if self.protocol_version is None:
            return None
        try:
            return ClientMessageMetadata(headers={PROTOCOL_VERSION_HEADER: self.protocol_version})
        except TypeError:  # mcp 1.x: its transport reads the version off the handshake itself
            return None

    async def receive(self) -> Message | list[Any] | None:
        item = await self._inbox.get()
        if item is None:
            self._inbox.put_nowait(None)  # every later call sees the end too
        return item

    async def send(self, message: Message) -> None:
        if self._task is None or self._task.done():
            log.debug("the upstream connection is closed")
            return
        await self._outbox.put(message)

    async def close(self) -> None:
        self._closing = True
        task = self._task
        if task is None or task.done():
            return
        self._outbox.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), _CLOSE_SECONDS)
        except (TimeoutError, Exception):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def _parsed(message: Message) -> Any:
    """The SDK's model of a message: mcp 2.x validates with an adapter, 1.x with a root
    model (``proctor[langchain]`` next to ``langchain-mcp-adapters`` resolves to mcp 1.x)."""
    import mcp.types

    adapter = getattr(mcp.types, "jsonrpc_message_adapter", None)
    if adapter is not None:
        return adapter.validate_python(message, by_name=False)
    root_model: Any = mcp.types.JSONRPCMessage  # a RootModel in 1.x, a Union in 2.x
    return root_model.model_validate(message)


def _cause(exc: BaseException) -> str:
    """The first real error inside an exception group (the SDK wraps them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        exc = (inner or list(exc.exceptions))[0]
    if isinstance(exc, asyncio.CancelledError):
        return "the connection was cancelled"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
