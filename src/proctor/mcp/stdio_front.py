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
import stat
import sys
from collections.abc import Sequence

from proctor.mcp.channels import MAX_LINE_BYTES, Channel, LineChannel
from proctor.mcp.errors import MCP_STDIO, McpProxyError
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.jsonrpc import INTERNAL_ERROR, error_response, id_problem
from proctor.mcp.sessions import ClientSession, open_session
from proctor.mcp.upstreams import Upstream

log = logging.getLogger("proctor.mcp")
DRAIN_SECONDS = 30.0  # answers still awaited when the client closes its input
_DRAIN_POLL_SECONDS = 0.05


async def serve_stdio(
    gate: ToolGate,
    upstreams: Sequence[Upstream],
    *,
    caller: Caller,
    drain_seconds: float = DRAIN_SECONDS,
) -> None:
    """Relay between this process's stdin/stdout and the upstreams until either side ends.

    Raises the upstream's failure (``mcp_upstream_unavailable``, naming its command or
    URL) when it ended the session; answers already asked for when the client closes its
    input are delivered first (for up to ``drain_seconds``).
    """
    _require_pipes()
    wire = _claim_stdout()
    channels: list[Channel] = []
    try:
        down = await _stdio_channel(wire)
        session, channels = await open_session(gate, upstreams, down.send, caller)
        await _run(session, down, channels, drain_seconds)
    finally:
        _release_stdout(wire)
    failure = next((found for c in channels if (found := _failure(c)) is not None), None)
    if failure is not None:
        raise failure


async def _run(
    session: ClientSession, down: Channel, channels: list[Channel], drain_seconds: float
) -> None:
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

    client, pump = asyncio.create_task(from_client()), asyncio.create_task(session.pump())
    tasks = [client, pump]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if pump.done():  # the upstream ended: what it will never answer is answered now
            failure = next((f for c in channels if (f := _failure(c)) is not None), None)
            await session.abandon(
                failure.message if failure else "the upstream server ended the session"
            )
        else:  # the client closed its input: what it already asked for still goes out
            await _drain(session, pump, drain_seconds)
    finally:
        for task in tasks:
            task.cancel()
        for channel in channels:
            await channel.close()
        await down.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _drain(session: ClientSession, pump: asyncio.Task[None], seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while session.waiting() and not pump.done():
        left = deadline - loop.time()
        if left <= 0:
            log.warning(
                "the client closed its input; %d answer(s) not received within %g s dropped",
                session.waiting(),
                seconds,
            )
            return
        await asyncio.wait([pump], timeout=min(left, _DRAIN_POLL_SECONDS))


def _failure(channel: Channel) -> McpProxyError | None:
    found = getattr(channel, "failure", None)
    return found if isinstance(found, McpProxyError) else None


def _require_pipes() -> None:
    """The stdio front talks over pipes, sockets or a terminal; a regular file is refused."""
    for fd, name in ((0, "standard input"), (1, "standard output")):
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            raise McpProxyError(f"{name} is not open: {exc.strerror}", code=MCP_STDIO) from exc
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
            raise McpProxyError(
                f"{name} is a file, not a pipe: the stdio front speaks JSON-RPC over the pipes "
                "an MCP client starts it with",
                code=MCP_STDIO,
                hint="let the client start `proctor mcp-proxy`, or serve HTTP with `--listen`",
            )


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
