"""The start-up banner of ``proctor serve`` and ``proctor mcp-proxy --listen``, for stderr.

It says what the process is about to answer with: where it listens, which
config and policies it loaded, which database it writes. A database URL's
password is never shown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from proctor.policy import CompiledPolicySet

_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|passfile|sslpassword)=)[^&#]*")


def shown_database(location: str) -> str:
    """``location`` with any password in a URL (its user part or query) replaced by ``***``."""
    if "://" not in location:
        return location
    try:
        parts = urlsplit(location)
    except ValueError:
        return "(an unreadable database URL)"
    parts = parts._replace(query=_QUERY_SECRET.sub(r"\1***", "?" + parts.query)[1:])
    if parts.password is None:
        return urlunsplit(parts)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


def policies_line(policies: CompiledPolicySet) -> str:
    """``2 (refunds v3, starter v1), 7 rules``; ``none: every call is denied`` when empty."""
    if not policies.policies:
        return "none loaded: every call is denied"
    names = ", ".join(f"{policy.name} v{policy.version}" for policy in policies.policies)
    return f"{len(policies.policies)} ({names}), {len(policies.rules)} rules"


def startup_banner(
    command: str,
    *,
    address: str,
    config: str | None,
    policies: CompiledPolicySet,
    database: str,
    dashboard: str | None = None,
    workers: int | None = None,
) -> str:
    lines = [
        f"{command}: listening on {address}",
        f"  config     {config or '(none)'}",
        f"  policies   {policies_line(policies)}",
        f"  database   {shown_database(database)}",
    ]
    if workers is not None and workers > 1:
        lines.append(f"  workers    {workers} processes on one socket, one chain")
    if dashboard is not None:
        lines.append(f"  dashboard  {dashboard}")
    return "\n".join(lines) + "\n"
