"""One client session over its upstreams: a ``Relay`` for one server, an ``Aggregate`` for more."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from proctor.mcp.aggregate import Aggregate
from proctor.mcp.channels import Channel
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.jsonrpc import Message
from proctor.mcp.relay import Relay, SendDown
from proctor.mcp.upstreams import Upstream


class ClientSession(Protocol):
    async def from_client(
        self, message: Message | list[Any], caller: Caller | None = None
    ) -> None: ...

    async def pump(self) -> None: ...

    def waiting(self) -> int:
        """Requests in flight upstream: their answers are still to come."""
        ...

    async def abandon(self, reason: str) -> None:
        """The upstream is gone: answer every request in flight with ``reason``."""
        ...


async def open_session(
    gate: ToolGate, upstreams: Sequence[Upstream], send_down: SendDown, caller: Caller
) -> tuple[ClientSession, list[Channel]]:
    """Start (or connect to) every upstream of one session; the caller closes the channels."""
    channels: list[Channel] = []
    try:
        for upstream in upstreams:
            channels.append(await upstream.open())
    except BaseException:
        for channel in channels:
            with contextlib.suppress(Exception):
                await channel.close()
        raise
    if len(upstreams) == 1:
        relay = Relay(gate, channels[0], send_down, server=upstreams[0].name, caller=caller)
        return relay, channels
    named = {upstream.name: channel for upstream, channel in zip(upstreams, channels, strict=True)}
    return Aggregate(gate, named, send_down, caller=caller), channels
