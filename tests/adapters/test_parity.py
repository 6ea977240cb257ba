"""One policy file, two doors: the shop's tools through `proctor mcp-proxy` and through an
adapter get the same decisions, the same masking and the same provenance."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from pydantic_ai import Agent

from proctor import Proctor
from proctor.adapters.pydantic_ai import ProctorToolset
from tests.adapters.conftest import SHOP, effects
from tests.adapters.shop import tools as shop_tools
from tests.adapters.test_pydantic_ai import returns, scripted
from tests.mcp.conftest import audit_records, proxied


async def _through_the_proxy(workdir: Path) -> dict[str, str]:
    """Each tool's text as the proxy's client gets it, in one MCP session (one run)."""
    texts: dict[str, str] = {}
    server = [sys.executable, str(SHOP / "server.py")]
    async with proxied(workdir, server, name="shop") as session:
        await session.list_tools()
        for name, args in shop_tools.SCRIPT:
            result = await session.call_tool(name, dict(args))
            texts[name] = "".join(getattr(part, "text", "") for part in result.content)
    return texts


def test_the_proxy_and_an_adapter_decide_alike_under_one_policy_file(
    shop: Proctor, shop_dir: Path
) -> None:
    texts = anyio.run(_through_the_proxy, shop_dir)
    by_proxy = {
        str(record["action"]): str(record["effect"])
        for record in audit_records(shop_dir)
        if record.get("kind", "decision") == "decision"
    }
    agent = Agent(
        scripted(shop_tools.SCRIPT),
        toolsets=[
            ProctorToolset.of(shop_tools.TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
        ],
    )
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        seen = returns(agent.run_sync("Sort out order A-1").all_messages())
    assert by_proxy == effects(shop) == shop_tools.EXPECTED
    for text in (texts["lookup_order"], seen["lookup_order"]):
        assert shop_tools.MASKED_CARD in text
        assert shop_tools.CARD not in text
    assert "the IBAN came from a tool's output" in texts["transfer"]
    assert "the IBAN came from a tool's output" in seen["transfer"]


def test_an_mcp_servers_tools_carry_the_hints_it_lists_through_the_adapters(
    shop: Proctor,
) -> None:
    """No `annotations=`: the hints are the ones the shop's MCP server lists, as the proxy reads
    them, so its read-only tools are allowed and the rest decided as through the proxy."""
    from pydantic_ai.mcp import MCPToolset

    toolset = ProctorToolset.wrap(MCPToolset(str(SHOP / "server.py")), server="shop")
    agent = Agent(scripted(shop_tools.SCRIPT), toolsets=[toolset])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        seen = returns(agent.run_sync("Sort out order A-1").all_messages())
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.MASKED_CARD in str(seen["lookup_order"])
    assert shop_tools.CARD not in str(seen)


def _through_a_governed_openai_mcp_server(
    shop: Proctor, script: tuple[tuple[str, dict[str, object]], ...]
) -> object:
    """``script`` run by an OpenAI agent on the shop's MCP server, governed; the model's last
    request (all it was given)."""
    from agents import Agent as OpenAIAgent
    from agents import RunConfig, Runner
    from agents.testing import ScriptedModel, assistant_message, function_call

    from proctor.adapters.openai_agents import GovernedMCPServerStdio

    turns = [[function_call(name, args, call_id=name)] for name, args in script]
    model = ScriptedModel([*turns, [assistant_message("done")]])
    server = GovernedMCPServerStdio(
        {"command": sys.executable, "args": [str(SHOP / "server.py")]},
        name="shop",
        client_session_timeout_seconds=30,
    )

    async def run() -> None:
        async with server:
            agent = OpenAIAgent(name="support", model=model, mcp_servers=[server])
            with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
                await Runner.run(agent, "help", run_config=RunConfig(tracing_disabled=True))

    anyio.run(run)
    return model.last_call


def test_a_governed_openai_mcp_server_reads_the_listed_hints_too(shop: Proctor) -> None:
    given = str(_through_a_governed_openai_mcp_server(shop, shop_tools.SCRIPT))
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.MASKED_CARD in given
    assert shop_tools.CARD not in given


def test_a_governed_openai_mcp_server_passes_on_the_masked_arguments(shop: Proctor) -> None:
    """The shop's server runs `add_note` in its own process: it says how many digits it got."""
    given = str(_through_a_governed_openai_mcp_server(shop, (shop_tools.NOTE,)))
    assert effects(shop) == {"call:shop/add_note": "allow"}
    assert "noted on A-1; digits in the note: 0" in given
