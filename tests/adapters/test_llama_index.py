"""The LlamaIndex adapter, in a real `FunctionAgent` driven by LlamaIndex's own
`MockFunctionCallingLLM` (no LLM, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, TextBlock, ToolCallBlock
from llama_index.core.llms import MockFunctionCallingLLM
from llama_index.core.tools import FunctionTool

from proctor import ActionDenied, Proctor
from proctor.adapters.llama_index import governed, governed_tools
from tests.adapters.conftest import assert_the_note_was_masked, effects
from tests.adapters.shop import tools as shop_tools

SHOP_TOOLS = [FunctionTool.from_defaults(function) for function in shop_tools.TOOLS]


def scripted(calls: tuple[tuple[str, dict[str, Any]], ...]) -> MockFunctionCallingLLM:
    """One tool call per model turn, in order, then a final answer."""
    turns: Iterator[ChatMessage] = iter(
        [
            *(
                ChatMessage(
                    role="assistant",
                    blocks=[ToolCallBlock(tool_call_id=f"c{n}", tool_name=name, tool_kwargs=args)],
                )
                for n, (name, args) in enumerate(calls)
            ),
            ChatMessage(role="assistant", blocks=[TextBlock(text="done")]),
        ]
    )
    return MockFunctionCallingLLM(response_generator=lambda messages, **kwargs: next(turns))


async def _run(agent: FunctionAgent, shop: Proctor, run_id: str) -> dict[str, Any]:
    """Each tool's output as the model got it, by tool name."""
    seen: dict[str, Any] = {}
    with shop.session(agent="desk-bot", user="alice", run_id=run_id):
        handler = agent.run(user_msg="Sort out order A-1")
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                seen[event.tool_name] = event.tool_output
        await handler
    return seen


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    tools = governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
    agent = FunctionAgent(tools=tools, llm=scripted(shop_tools.SCRIPT))
    seen = asyncio.run(_run(agent, shop, "ticket-1"))
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    assert (
        seen["lookup_order"].content
        == f"order A-1: 2 items, paid with card {shop_tools.MASKED_CARD}"
    )
    assert shop_tools.CARD not in str(seen["lookup_order"].raw_output)
    assert seen["refund"].is_error
    assert "held the call to `refund`" in seen["refund"].content
    assert "denied the call to `delete_order`" in seen["delete_order"].content
    assert "the IBAN came from a tool's output" in seen["transfer"].content


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    tools = governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
    asyncio.run(_run(FunctionAgent(tools=tools, llm=scripted((shop_tools.NOTE,))), shop, "t-1"))
    assert_the_note_was_masked(shop)


def test_a_governed_tool_keeps_the_metadata_and_works_when_called_directly(shop: Proctor) -> None:
    lookup = governed(
        SHOP_TOOLS[0], server="shop", annotations=shop_tools.ANNOTATIONS["lookup_order"]
    )
    assert lookup.metadata == SHOP_TOOLS[0].metadata
    with shop.session(agent="desk-bot", user="alice"):
        assert shop_tools.MASKED_CARD in lookup.call(order_id="A-1").content
        refused = governed(SHOP_TOOLS[0], server="shop").call(order_id="A-1")  # no hints
    assert refused.is_error
    assert effects(shop) == {"call:shop/lookup_order": "deny"}


def test_on_block_raise_raises_out_of_a_direct_call(shop: Proctor) -> None:
    delete = governed(SHOP_TOOLS[3], server="shop", on_block="raise")
    with shop.session(agent="desk-bot", user="alice"), pytest.raises(ActionDenied):
        delete.call(order_id="A-1")
    assert shop_tools.ran == []


def test_without_a_session_no_tool_runs(shop: Proctor) -> None:
    lookup = governed(
        SHOP_TOOLS[0], server="shop", annotations=shop_tools.ANNOTATIONS["lookup_order"]
    )
    refused = lookup.call(order_id="A-1")
    assert refused.is_error
    assert "outside a proctor session" in refused.content
    assert shop_tools.ran == []
