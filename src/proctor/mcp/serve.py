"""Running the proxy: the stdio or the HTTP front over one ``Proxy``, until it is stopped."""

from __future__ import annotations

import asyncio
import logging
import sys

from proctor.mcp.http_front import HttpTimeouts
from proctor.mcp.proxy import ProxyOptions, build_proxy
from proctor.mcp.stdio_front import serve_stdio


def run(options: ProxyOptions) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    logging.basicConfig(
        stream=sys.stderr,
        level=options.environ.get("PROCTOR_LOG_LEVEL", "WARNING").upper(),
        format="proctor mcp-proxy: %(levelname)s %(message)s",
    )
    proxy = build_proxy(options)
    try:
        if options.listen is not None:
            from proctor.mcp.http_serve import serve_http

            timeouts = HttpTimeouts(
                call=options.call_timeout,
                idle=options.idle_timeout,
                shutdown_grace=options.shutdown_grace,
            )
            serve_http(proxy, options.listen, resource_url=options.resource_url, timeouts=timeouts)
        else:
            asyncio.run(serve_stdio(proxy.gate, proxy.upstreams, caller=proxy.caller.in_run()))
    finally:
        proxy.proctor.close()
