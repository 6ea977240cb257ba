"""An MCP server built with the official SDK (``mcp.server.mcpserver``), over stdio."""

from __future__ import annotations

from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

CARD = "4111 1111 1111 1111"
server = MCPServer("sdk")


class GoOn(BaseModel):
    go: bool = True


@server.tool(annotations={"readOnlyHint": True})  # type: ignore[misc]
def secret() -> str:
    return f"the card is {CARD}"


@server.tool()
async def wait_secret(ctx: Context) -> str:
    await ctx.elicit("go on?", GoOn)
    return f"the card is {CARD}"


@server.tool()
def touch(path: str) -> str:
    Path(path).write_text("ran")
    return "touched"


@server.resource("secret://card")
def card() -> str:
    return f"card: {CARD}"


@server.prompt()
def pay() -> str:
    return f"pay with {CARD}"


if __name__ == "__main__":
    server.run()
