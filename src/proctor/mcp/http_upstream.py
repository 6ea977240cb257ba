"""An upstream MCP server reached over Streamable HTTP (the ``mcp`` SDK's client transport).

The SDK's transport handles the HTTP side (session id, protocol version
header, SSE responses, the GET stream, resumption); the proxy only converts
between its plain-dict messages and the SDK's message models. Open and close
a channel in the same task: the transport's task group is bound to it.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import anyio
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage
from mcp.types import jsonrpc_message_adapter

from proctor.mcp.errors import MCP_UPSTREAM, McpProxyError
from proctor.mcp.jsonrpc import Message

log = logging.getLogger("proctor.mcp")


class HttpUpstreamChannel:
    def __init__(self, stack: contextlib.AsyncExitStack, read: Any, write: Any) -> None:
        self._stack = stack
        self._read = read
        self._write = write

    @classmethod
    async def connect(cls, url: str) -> HttpUpstreamChannel:
        stack = contextlib.AsyncExitStack()
        try:
            read, write = await stack.enter_async_context(streamable_http_client(url))
        except Exception as exc:
            await stack.aclose()
            raise McpProxyError(
                f"cannot reach the upstream server at `{url}`: {exc}", code=MCP_UPSTREAM
            ) from exc
        return cls(stack, read, write)

    async def receive(self) -> Message | list[Any] | None:
        while True:
            try:
                item = await self._read.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return None
            if isinstance(item, Exception):
                log.warning("the upstream sent something that is not a message: %s", item)
                continue
            dumped: Message = item.message.model_dump(
                by_alias=True, exclude_unset=True, mode="json"
            )
            return dumped

    async def send(self, message: Message) -> None:
        parsed = jsonrpc_message_adapter.validate_python(message, by_name=False)
        try:
            await self._write.send(SessionMessage(parsed))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            log.debug("the upstream connection is closed")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._stack.aclose()
