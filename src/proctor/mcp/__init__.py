"""``proctor mcp-proxy``: a transparent MCP proxy that governs every ``tools/call``.

The proxy relays JSON-RPC messages between one MCP client and its upstream
server(s) without re-negotiating anything: the client's ``initialize`` (or
``server/discover``) reaches the upstream as sent, so the protocol era and the
capabilities stay the client's own. ``tools/call``, ``resources/read`` and
``prompts/get`` requests are checked and their answers reviewed, once;
``tools/list`` answers are filtered, and the items of every list (tools,
prompts, resources, templates) have their descriptions reviewed.
See docs/mcp-proxy.md.
"""

from proctor.mcp.gate import ToolGate
from proctor.mcp.relay import Relay

__all__ = ["Relay", "ToolGate"]
