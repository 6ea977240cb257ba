"""The shop's tools served over MCP stdio (the official SDK), with their annotations."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.types import ToolAnnotations

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:  # the MCP SDK 1.x, in the adapters' second test environment
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # `tests` as a package

from tests.adapters.shop.tools import ANNOTATIONS, TOOLS

server = MCPServer("shop")
for function in TOOLS:
    hints = ANNOTATIONS.get(function.__name__)
    server.tool(annotations=ToolAnnotations(**hints) if hints else None)(function)

if __name__ == "__main__":
    server.run()
