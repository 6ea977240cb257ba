"""Running the proxy: the stdio or the HTTP front over one ``Proxy``, until it is stopped."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from proctor.banner import startup_banner
from proctor.config import DEFAULT_CONFIG_NAME, load_config
from proctor.mcp.proxy import DEFAULT_DB, Proxy, ProxyOptions, build_proxy
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
            sys.stderr.write(proxy_banner(proxy, options))
            sys.stderr.flush()
            from proctor.mcp.http_serve import serve_http

            serve_http(proxy, options)
        else:
            asyncio.run(serve_stdio(proxy.gate, proxy.upstreams, caller=proxy.caller.in_run()))
    finally:
        proxy.proctor.close()


def proxy_banner(proxy: Proxy, options: ProxyOptions) -> str:
    """Address, config, policies and database of the HTTP front about to start."""
    config = options.config
    if config is None and not options.policies and Path(DEFAULT_CONFIG_NAME).is_file():
        config = DEFAULT_CONFIG_NAME
    database = options.db or (load_config(config).audit_location if config else DEFAULT_DB)
    return startup_banner(
        "proctor mcp-proxy",
        address=f"http://{options.listen}/mcp",
        config=str(Path(config).resolve()) if config else None,
        policies=proxy.proctor.runtime.policies,
        database=database,
    )
