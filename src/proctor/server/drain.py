"""Stopping without dropping a request already sent: answer, then close.

uvicorn's shutdown closes every idle keep-alive connection at once, so a
request a client has just written on one is lost: the client sees the
connection closed with nothing answered. ``DrainingServer`` first stops
accepting and marks the gateway draining (``/readyz`` answers 503), then for
up to ``DRAIN_SECONDS`` keeps serving the connections already open: every
response says ``Connection: close`` (``CloseWhenDraining``), so each
connection closes after answering what was sent on it. Only then does
uvicorn's own shutdown close what is left (connections that sent nothing).
The header is added by ``proctor.server.app.CloseWhenDraining``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import uvicorn

DRAIN_SECONDS = 1.0
_POLL_SECONDS = 0.02


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, on_drain: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_drain = on_drain

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_drain()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        deadline = time.monotonic() + DRAIN_SECONDS
        while self.server_state.connections and time.monotonic() < deadline:
            await asyncio.sleep(_POLL_SECONDS)
        await super().shutdown()
