"""Checks on an HTTP request's headers before the front reads its body.

* DNS rebinding (MCP 2025-06-18, "Transports" §2.0.1, security warning): a
  web page whose name resolves to 127.0.0.1 reaches a local server with its
  own name in ``Host`` and its own origin in ``Origin``. Both must name an
  allowed host: the loopback names by default, the ``--resource-url`` host,
  and those given with ``--allowed-host``. A request that fails answers 403.
* ``MCP-Protocol-Version`` (§2.7): a version the front does not speak answers 400.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ANY_HOST = "*"
# The handshake-era versions a client may negotiate through the front.
PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
PROTOCOL_VERSION_HEADER = "mcp-protocol-version"


class HostAllowList:
    """Host names (any port) or ``name:port`` pairs, compared without case."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self.hosts = frozenset(host.strip().lower() for host in hosts if host.strip())

    @classmethod
    def default(cls, extra: Iterable[str] = (), resource_url: str | None = None) -> HostAllowList:
        hosts = [*LOOPBACK_HOSTS, *extra]
        if resource_url:
            netloc = urlsplit(resource_url).netloc.rpartition("@")[2]
            if netloc:
                hosts.append(netloc)
        return cls(hosts)

    def allows(self, host: str) -> bool:
        host = host.strip().lower()
        if ANY_HOST in self.hosts:
            return True
        if not host or any(c in host for c in "/\\@ ?#"):
            return False
        name = host.rsplit(":", 1)[0] if _has_port(host) else host
        return host in self.hosts or name in self.hosts


def _has_port(host: str) -> bool:
    head, sep, port = host.rpartition(":")
    return bool(sep) and port.isdigit() and (not head.startswith("[") or head.endswith("]"))


def rebinding_problem(request: Request, allowed: HostAllowList) -> str | None:
    """Why the request's ``Host`` or ``Origin`` is refused; None when both are allowed."""
    host = request.headers.get("host", "")
    if not allowed.allows(host):
        return f"the host `{host[:200]}` is not allowed here (`--allowed-host`)"
    origin = request.headers.get("origin")
    if origin is None:
        return None  # not a browser, or a same-origin request that sends none
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not allowed.allows(parts.netloc):
        return f"the origin `{origin[:200]}` is not allowed here (`--allowed-host`)"
    return None


def protocol_version_problem(request: Request) -> str | None:
    version = request.headers.get(PROTOCOL_VERSION_HEADER)
    if version is None or version.strip() in PROTOCOL_VERSIONS:
        return None
    supported = ", ".join(PROTOCOL_VERSIONS)
    return f"unsupported `MCP-Protocol-Version` `{version[:100]}` (supported: {supported})"
