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
MCP_PROMPT_WITHHELD = "mcp_prompt_withheld"  # a get of a prompt whose description was withheld
MCP_RESOURCE_WITHHELD = "mcp_resource_withheld"  # a read of a resource withheld so
MCP_MESSAGE_WITHHELD = "mcp_message_withheld"  # a server's request the scan refused
MCP_LOOK_ALIKE = "mcp_look_alike"  # a tool or prompt name that only reads as a listed one
WITHHELD = {
    "tool": MCP_TOOL_WITHHELD,
    "prompt": MCP_PROMPT_WITHHELD,
    "resource": MCP_RESOURCE_WITHHELD,
}
"""The code of a request of an item withheld from its list, by the item's noun."""
