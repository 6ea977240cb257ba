"""Serving the HTTP front with uvicorn, with a stop bounded by the shutdown grace."""

from __future__ import annotations

from typing import Any

import uvicorn

from proctor.errors import ProctorError
from proctor.mcp.http_front import HttpFront, HttpTimeouts
from proctor.mcp.proxy import Proxy, ProxyOptions


def serve_http(proxy: Proxy, options: ProxyOptions) -> None:
    """Serve on ``options.listen`` (``HOST:PORT``) until stopped (SIGTERM, SIGINT)."""
    listen = options.listen or ""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ProctorError(f"`--listen {listen}` is not HOST:PORT", code="mcp_config")
    # the address it listens on is allowed as `Host`: an IP literal is no name a rebinding
    # page controls (a wildcard address names no host)
    listening = host.strip("[]") not in ("0.0.0.0", "::", "")
    allowed_hosts = options.allowed_hosts
    front = HttpFront(
        proxy,
        resource_url=options.resource_url,
        timeouts=HttpTimeouts(
            call=options.call_timeout,
            idle=options.idle_timeout,
            shutdown_grace=options.shutdown_grace,
        ),
        allowed_hosts=(*allowed_hosts, host) if listening else allowed_hosts,
        sessions_per_client=options.sessions_per_client,
    )
    config = uvicorn.Config(
        front.app,
        host=host.strip("[]"),
        port=int(port),
        log_level="warning",
        # a backstop: the wind-down below has already ended every session by then
        timeout_graceful_shutdown=int(front.timeouts.shutdown_grace) + 5,
    )
    WindingDownServer(config, front).run()


class WindingDownServer(uvicorn.Server):
    """A stop first winds the sessions down (``HttpFront.wind_down``), so an open request
    or GET stream holds the process for the grace period at most, not as long as it lasts."""

    def __init__(self, config: uvicorn.Config, front: HttpFront) -> None:
        super().__init__(config)
        self.front = front

    async def shutdown(self, sockets: Any = None) -> None:
        for server in self.servers:  # no new connection while winding down
            server.close()
        await self.front.wind_down()
        await super().shutdown(sockets)
