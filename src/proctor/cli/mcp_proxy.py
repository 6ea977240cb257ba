"""``proctor mcp-proxy``: govern an MCP server's tool calls, in place of the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from proctor.cli import options


def _seconds(
    flag: str, maximum: float, default: float, help: str, *, minimum: float = 0.001
) -> Callable[[Any], Any]:
    """An option for a number of seconds, bounded on both sides, its default shown."""
    return click.option(
        flag,
        type=click.FloatRange(min=minimum, max=maximum),
        default=default,
        show_default=True,
        help=help,
    )


@click.command(
    "mcp-proxy",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@options.CONFIG
@click.option(
    "--policy", "policies", multiple=True, type=click.Path(), help="Policy file (repeatable)."
)
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--name", help="The server's name in actions (`call:NAME/tool`).")
@click.option("--upstream", "upstream_url", help="Streamable HTTP URL of the upstream server.")
@click.option("--listen", help="Serve Streamable HTTP on HOST:PORT instead of stdio.")
@click.option(
    "--resource-url", help="The proxy's public URL, for OAuth protected-resource metadata (HTTP)."
)
@_seconds(
    "--call-timeout",
    86_400,
    120.0,
    "HTTP: seconds a request waits for the upstream's answer before an error answer.",
)
@_seconds(
    "--idle-timeout",
    604_800,
    900.0,
    "HTTP: seconds a session lives without requests before it ends.",
)
@_seconds(
    "--shutdown-grace",
    3_600,
    10.0,
    "HTTP: seconds a stop waits for requests in flight before ending their sessions.",
    minimum=0,
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="HTTP: a Host/Origin name (or NAME:PORT) to accept besides the loopback names "
    "and the --resource-url host (repeatable; `*` accepts any, behind a proxy that checks).",
)
@click.option(
    "--sessions-per-client",
    type=click.IntRange(min=1, max=256),
    default=16,
    show_default=True,
    help="HTTP: sessions one client holds; one more ends its least recently used idle one.",
)
@options.POLICIES_FROM_STORE
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def mcp_proxy(
    config: str | None,
    policies: tuple[str, ...],
    db: str | None,
    name: str | None,
    upstream_url: str | None,
    listen: str | None,
    resource_url: str | None,
    call_timeout: float,
    idle_timeout: float,
    shutdown_grace: float,
    allowed_hosts: tuple[str, ...],
    sessions_per_client: int,
    policies_from_store: bool | None,
    command: tuple[str, ...],
) -> None:
    """Relay an MCP server, checking every tool call: ... mcp-proxy -- COMMAND ARGS...

    Over stdio the caller is PROCTOR_TOKEN (a delegation token) or
    PROCTOR_AGENT and PROCTOR_USER from the environment; over HTTP, the bearer
    token of each request. See docs/mcp-proxy.md.
    """
    from proctor.cli.loading import database_override
    from proctor.mcp.proxy import ProxyOptions
    from proctor.mcp.serve import run

    run(
        ProxyOptions(
            config=config,
            policies=policies,
            db=database_override(db),
            name=name,
            command=command,
            upstream_url=upstream_url,
            listen=listen,
            resource_url=resource_url,
            call_timeout=call_timeout,
            idle_timeout=idle_timeout,
            shutdown_grace=shutdown_grace,
            allowed_hosts=allowed_hosts,
            sessions_per_client=sessions_per_client,
            policies_from_store=policies_from_store or None,
        )
    )
