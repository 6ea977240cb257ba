"""``proctor mcp-proxy``: a transparent MCP proxy that governs every ``tools/call``.

The proxy relays JSON-RPC messages between one MCP client and its upstream
server(s) without re-negotiating anything: the client's ``initialize`` (or
``server/discover``) reaches the upstream as sent, so the protocol era and the
capabilities stay the client's own. Only two methods are looked into:
``tools/list`` answers are filtered, ``tools/call`` requests are checked.
See docs/mcp-proxy.md.
"""

from proctor.mcp.gate import ToolGate
from proctor.mcp.relay import Relay

__all__ = ["Relay", "ToolGate"]
