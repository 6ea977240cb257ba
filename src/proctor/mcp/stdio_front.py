"""The stdio front: the MCP client starts ``proctor mcp-proxy`` as its server.

stdout is the JSON-RPC channel and nothing else: while the proxy runs, file
descriptor 1 points at stderr, and messages go out through a private copy of
the original stdout, so a stray print (ours or a library's) cannot corrupt it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

from proctor.mcp.channels import MAX_LINE_BYTES, Channel, LineChannel
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.jsonrpc import INTERNAL_ERROR, error_response, id_problem
from proctor.mcp.sessions import ClientSession, open_session
from proctor.mcp.upstreams import Upstream

log = logging.getLogger("proctor.mcp")


async def serve_stdio(gate: ToolGate, upstreams: Sequence[Upstream], *, caller: Caller) -> None:
    """Relay between this process's stdin/stdout and the upstreams until either side ends."""
    wire = _claim_stdout()
    try:
        down = await _stdio_channel(wire)
        session, channels = await open_session(gate, upstreams, down.send, caller)
        await _run(session, down, channels)
    finally:
        _release_stdout(wire)


async def _run(session: ClientSession, down: Channel, channels: list[Channel]) -> None:
    async def from_client() -> None:
        while (message := await down.receive()) is not None:
            try:
                await session.from_client(message)
            except Exception:  # one message that cannot be relayed does not end the session
                log.exception("could not relay a message from the client")
                if isinstance(message, dict) and "method" in message:
                    request_id = message.get("id")
                    if id_problem(request_id) is None:
                        text = "the proxy could not relay this request"
                        await down.send(error_response(request_id, INTERNAL_ERROR, text))

    tasks = [asyncio.create_task(from_client()), asyncio.create_task(session.pump())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for channel in channels:
            await channel.close()
        await down.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _stdio_channel(wire: int) -> LineChannel:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire, "wb", buffering=0, closefd=False)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return LineChannel(reader, writer)


def _claim_stdout() -> int:
    """A private descriptor for the JSON-RPC channel; fd 1 now writes to stderr."""
    sys.stdout.flush()
    wire = os.dup(1)
    os.dup2(2, 1)
    return wire


def _release_stdout(wire: int) -> None:
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        os.dup2(wire, 1)
        os.close(wire)
