"""Message channels: newline-delimited JSON-RPC over pipes (stdio), and upstream processes.

Messages stay plain dicts end to end, so fields the proxy does not know (a
newer protocol era's ``_meta``, extensions) pass through byte-for-byte in
meaning. Lines that are not JSON are dropped and logged to stderr, never
written to the JSON-RPC channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from proctor.mcp.errors import MCP_UPSTREAM, McpProxyError
from proctor.mcp.jsonrpc import Message, parse

log = logging.getLogger("proctor.mcp")

# A JSON-RPC line may carry a file or an image: allow large ones, not unbounded ones.
MAX_LINE_BYTES = 64 * 1024 * 1024
_STOP_GRACE_SECONDS = 2.0
# Variables that carry the caller's own credential stay with the proxy.
PRIVATE_VARIABLES = ("PROCTOR_TOKEN",)


class Channel(Protocol):
    async def receive(self) -> Message | list[Any] | None:
        """The next message (a batch as a list), or None once the peer is gone."""
        ...

    async def send(self, message: Message) -> None: ...

    async def close(self) -> None: ...


class LineChannel:
    """JSON-RPC over a pair of byte streams, one message per line (the MCP stdio transport)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()

    async def receive(self) -> Message | list[Any] | None:
        while True:
            try:
                line = await self._reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                log.error("dropped a JSON-RPC line longer than %d bytes", MAX_LINE_BYTES)
                return None
            except (ConnectionError, OSError):
                return None
            if not line:
                return None
            if not line.strip():
                continue
            try:
                message = parse(line)
            except ValueError:
                log.warning("dropped a line that is not JSON: %r", line[:200])
                continue
            if isinstance(message, dict | list):
                return message
            log.warning("dropped a JSON value that is not a message: %r", line[:200])

    async def send(self, message: Message) -> None:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        async with self._lock:
            try:
                self._writer.write(data)
                await self._writer.drain()
            except (ConnectionError, OSError) as exc:
                log.debug("the peer closed its end: %s", exc)

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            self._writer.close()


class ProcessChannel(LineChannel):
    """An upstream MCP server started as a child process; its stderr is the proxy's stderr."""

    def __init__(self, process: asyncio.subprocess.Process, command: str = "") -> None:
        assert process.stdout is not None
        assert process.stdin is not None
        super().__init__(process.stdout, process.stdin)
        self.process = process
        self.command = command
        self.failure: McpProxyError | None = None  # set when the server ended on its own
        self._closing = False

    async def receive(self) -> Message | list[Any] | None:
        message = await super().receive()
        if message is None and not self._closing and self.failure is None:
            self.failure = await self._ended()
            log.error("%s", self.failure.message)
        return message

    async def _ended(self) -> McpProxyError:
        """Why the server's output ended: its exit code (or signal), when it has exited."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), _STOP_GRACE_SECONDS)
        code = self.process.returncode
        if code is None:
            what = "closed its output"
        elif code < 0:
            what = f"was killed by signal {-code}"
        else:
            what = f"exited with code {code}"
        return McpProxyError(f"the upstream server `{self.command}` {what}", code=MCP_UPSTREAM)

    @classmethod
    async def start(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ProcessChannel:
        """Start ``command`` with the proxy's environment (less its credential) and ``env``."""
        environment = {k: v for k, v in os.environ.items() if k not in PRIVATE_VARIABLES}
        environment.update(env or {})
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=sys.stderr.fileno() if _has_fileno(sys.stderr) else None,
                env=environment,
                cwd=cwd,
                limit=MAX_LINE_BYTES,
            )
        except OSError as exc:
            raise McpProxyError(
                f"cannot start the upstream server `{' '.join(command)}`: {exc.strerror or exc}",
                code=MCP_UPSTREAM,
            ) from exc
        return cls(process, " ".join(command))

    async def close(self) -> None:
        """Close its stdin (the MCP way to ask a stdio server to exit), then stop it."""
        self._closing = True
        process = self.process
        await super().close()
        if process.returncode is not None:
            return
        for stop in (process.terminate, process.kill):
            try:
                await asyncio.wait_for(process.wait(), _STOP_GRACE_SECONDS)
                return
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), _STOP_GRACE_SECONDS)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
