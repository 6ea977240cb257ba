"""The Google ADK adapter, in a real `LlmAgent` run by ADK's `InMemoryRunner` and driven by ADK's
own offline model double (`google.adk.cli.agent_test_runner.MockModel`: no LLM, no network)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from google.adk.agents import LlmAgent
from google.adk.cli.agent_test_runner import InMemoryRunner, MockModel
from google.genai import types

from proctor import ApprovalRequired, Proctor
from proctor.adapters.google_adk import ProctorToolCallbacks
from tests.adapters.conftest import (
    SHOP,
    assert_the_note_was_masked,
    assert_the_shop_script_was_governed,
    effects,
)
from tests.adapters.shop import tools as shop_tools


def scripted(calls: tuple[tuple[str, dict[str, Any]], ...]) -> MockModel:
    """One tool call per model turn, in order, then a final answer."""
    turns = [
        types.Content(
            role="model",
            parts=[types.Part(function_call=types.FunctionCall(id=f"c{n}", name=name, args=args))],
        )
        for n, (name, args) in enumerate(calls)
    ]
    return MockModel.create([*turns, types.Content(role="model", parts=[types.Part(text="done")])])


def agent(model: MockModel, callbacks: ProctorToolCallbacks) -> LlmAgent:
    return LlmAgent(
        name="desk",
        model=model,
        tools=list(shop_tools.TOOLS),
        before_tool_callback=callbacks.before_tool,
        after_tool_callback=callbacks.after_tool,
    )


def responses(model: MockModel) -> dict[str, str]:
    """What the model was given for each tool call, by tool name (its last request)."""
    return {
        part.function_response.name or "": str(part.function_response.response)
        for content in model.requests[-1].contents
        for part in content.parts or ()
        if part.function_response is not None
    }


def _callbacks(**options: Any) -> ProctorToolCallbacks:
    return ProctorToolCallbacks(server="shop", annotations=shop_tools.ANNOTATIONS, **options)


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    model = scripted(shop_tools.SCRIPT)
    runner = InMemoryRunner(agent(model, _callbacks()))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        runner.run("Sort out order A-1")
    assert_the_shop_script_was_governed(shop, responses(model), str(model.requests))


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    runner = InMemoryRunner(agent(scripted((shop_tools.NOTE,)), _callbacks()))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        runner.run("note the card")
    assert_the_note_was_masked(shop)


def test_without_a_session_no_tool_runs(shop: Proctor) -> None:
    model = scripted(shop_tools.SCRIPT[:1])
    InMemoryRunner(agent(model, _callbacks())).run("look A-1 up")
    assert shop_tools.ran == []
    assert "outside a proctor session" in responses(model)["lookup_order"]


def test_on_block_raise_stops_the_run(shop: Proctor) -> None:
    runner = InMemoryRunner(agent(scripted(shop_tools.SCRIPT[2:3]), _callbacks(on_block="raise")))
    with (
        shop.session(agent="desk-bot", user="alice"),
        pytest.raises(ApprovalRequired) as raised,
    ):
        runner.run("refund A-1")
    assert raised.value.approval_id is not None
    assert shop_tools.ran == []


def test_a_response_to_a_call_never_checked_is_withheld(shop: Proctor) -> None:
    """`after_tool` without its `before_tool` (another callback ran the tool): nothing passes."""
    callbacks = _callbacks()
    model = scripted(shop_tools.SCRIPT[:1])
    adk_agent = agent(model, callbacks)
    adk_agent.before_tool_callback = lambda tool, args, context: None
    with shop.session(agent="desk-bot", user="alice"):
        InMemoryRunner(adk_agent).run("look A-1 up")
    assert "not checked by proctor" in responses(model)["lookup_order"]
    assert shop_tools.CARD not in str(model.requests)


def test_a_reused_call_id_never_lets_an_unreviewed_response_through(shop: Proctor) -> None:
    """The model names two calls to one tool `t`, one allowed (its response carries a card
    number), one held: whichever record each response meets, the card never reaches it."""
    document = types.FunctionCall(id="d", name="read_document", args={"name": "invoice-7"})
    same_id = [
        types.Part(function_call=types.FunctionCall(id="t", name="transfer", args=args))
        for args in (
            {"iban": shop_tools.CARD, "amount": 1.0},
            {"iban": shop_tools.IBAN, "amount": 40.0},
        )
    ]
    model = MockModel.create(
        [
            types.Content(role="model", parts=[types.Part(function_call=document)]),
            types.Content(role="model", parts=same_id),
            types.Content(role="model", parts=[types.Part(text="done")]),
        ]
    )
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-4"):
        InMemoryRunner(agent(model, _callbacks())).run("pay")
    assert shop_tools.ran == ["read_document", "transfer"]
    given = [
        str(part.function_response.response)
        for content in model.requests[-1].contents
        for part in content.parts or ()
        if part.function_response is not None and part.function_response.name == "transfer"
    ]
    assert len(given) == 2
    assert shop_tools.CARD not in str(given)


def test_an_mcp_toolsets_tools_carry_the_hints_its_server_lists(shop: Proctor) -> None:
    """No `annotations=`: an `McpToolset`'s tools are described by what the shop's MCP server
    lists, as the proxy reads it, so the policy decides each call as through the proxy."""
    from google.adk.tools.mcp_tool import McpToolset, StdioConnectionParams
    from mcp import StdioServerParameters

    server = StdioServerParameters(command=sys.executable, args=[str(SHOP / "server.py")])
    toolset = McpToolset(connection_params=StdioConnectionParams(server_params=server, timeout=30))
    callbacks = ProctorToolCallbacks(server="shop")
    model = scripted(shop_tools.SCRIPT)
    mcp_agent = LlmAgent(
        name="desk",
        model=model,
        tools=[toolset],
        before_tool_callback=callbacks.before_tool,
        after_tool_callback=callbacks.after_tool,
    )

    async def run() -> None:
        try:
            await InMemoryRunner(mcp_agent).runner.run_debug("Sort out order A-1", quiet=True)
        finally:
            await toolset.close()

    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        asyncio.run(run())
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.MASKED_CARD in responses(model)["lookup_order"]
    assert shop_tools.CARD not in str(responses(model))
