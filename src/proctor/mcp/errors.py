"""Errors of the MCP proxy: bad proxy configuration and upstreams that cannot be reached."""

from __future__ import annotations

from proctor.errors import ProctorError


class McpProxyError(ProctorError):
    code = "mcp_proxy_error"


MCP_CONFIG = "mcp_config"
MCP_UPSTREAM = "mcp_upstream_unavailable"
MCP_SERVER_UNDECLARED = "mcp_server_undeclared"
MCP_STDIO = "mcp_stdio_unusable"
MCP_TOOL_WITHHELD = "mcp_tool_withheld"  # a call of a tool whose description was withheld
MCP_MESSAGE_WITHHELD = "mcp_message_withheld"  # a server's request the scan refused
