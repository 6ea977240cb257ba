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

Under ``serve --workers N`` every worker is a ``DrainingServer`` too
(``DrainingWorker``), and the supervisor closes its own copy of the listening
socket before it signals them (``DrainingSupervisor``): a copy left open
would take connections that no worker accepts any more, reset at its exit.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

DRAIN_SECONDS = 5.0  # a bound: the open connections close as soon as each has answered
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


_worker_drains: list[Callable[[], None]] = []  # in a worker: what marks its gateway draining


def on_worker_drain(hook: Callable[[], None]) -> None:
    """In a worker process: call ``hook`` when its server starts draining."""
    _worker_drains[:] = [hook]


def _drain_worker() -> None:
    for hook in _worker_drains:
        hook()


class DrainingWorker(Process):
    """One ``serve --workers`` process, whose server drains on SIGTERM."""

    @property
    def server(self) -> uvicorn.Server:  # built in the worker process, at its start
        if self._server is None:
            self._server = DrainingServer(self.config, on_drain=_drain_worker)
        return self._server


class DrainingSupervisor(Multiprocess):
    def terminate_all(self) -> None:
        for sock in self.sockets:  # new connections refused, not queued to be reset
            sock.close()
        super().terminate_all()
