"""The AutoGen AgentChat adapter, in a real `AssistantAgent` driven by AutoGen's own
`ReplayChatCompletionClient` (no LLM, no network)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import ToolCallExecutionEvent
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import CreateResult, RequestUsage
from autogen_core.tools import FunctionTool
from autogen_ext.models.replay import ReplayChatCompletionClient

from proctor import ApprovalRequired, Proctor
from proctor.adapters.autogen import governed_tools
from tests.adapters.conftest import assert_the_note_was_masked, effects
from tests.adapters.shop import tools as shop_tools

SHOP_TOOLS = [FunctionTool(function, function.__doc__ or "") for function in shop_tools.TOOLS]
NO_USAGE = RequestUsage(prompt_tokens=0, completion_tokens=0)
MODEL_INFO: Any = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


def scripted(calls: tuple[tuple[str, dict[str, Any]], ...]) -> ReplayChatCompletionClient:
    """One tool call per model turn, in order, then a final answer."""
    turns: list[str | CreateResult] = [
        CreateResult(
            finish_reason="function_calls",
            content=[FunctionCall(id=f"c{n}", name=name, arguments=json.dumps(args))],
            usage=NO_USAGE,
            cached=False,
        )
        for n, (name, args) in enumerate(calls)
    ]
    return ReplayChatCompletionClient([*turns, "done"], model_info=MODEL_INFO)


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    tools = governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
    agent = AssistantAgent(
        "support", model_client=scripted(shop_tools.SCRIPT), tools=tools, max_tool_iterations=10
    )

    async def run() -> Any:
        with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
            return await agent.run(task="Sort out order A-1")

    result = asyncio.run(run())
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    seen = {
        item.name: item
        for message in result.messages
        if isinstance(message, ToolCallExecutionEvent)
        for item in message.content
    }
    assert (
        seen["lookup_order"].content
        == f"order A-1: 2 items, paid with card {shop_tools.MASKED_CARD}"
    )
    assert not seen["lookup_order"].is_error
    assert shop_tools.CARD not in str(result.messages)
    assert seen["refund"].is_error
    assert "held the call to `refund`" in seen["refund"].content
    assert "denied the call to `delete_order`" in seen["delete_order"].content
    assert "the IBAN came from a tool's output" in seen["transfer"].content


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    tools = governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
    agent = AssistantAgent("support", model_client=scripted((shop_tools.NOTE,)), tools=tools)

    async def run() -> Any:
        with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
            return await agent.run(task="note the card")

    asyncio.run(run())
    assert_the_note_was_masked(shop)


def test_the_wrapper_keeps_the_schema_and_raises_when_called_directly(shop: Proctor) -> None:
    (refund,) = governed_tools(SHOP_TOOLS[2:3], server="shop", on_block="raise")
    assert refund.schema == SHOP_TOOLS[2].schema
    with shop.session(agent="desk-bot", user="alice"), pytest.raises(ApprovalRequired):
        asyncio.run(refund.run_json({"order_id": "A-1", "amount": 400}, CancellationToken()))
    assert shop_tools.ran == []
