"""The LangGraph adapter: a `ToolNode` in a real graph with a checkpointer, driven by
langchain_core's `GenericFakeChatModel` (no LLM, no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import tools_condition
from langgraph.types import Command

from proctor import ActionDenied, Proctor
from proctor.adapters.langgraph import ProctorToolCalls
from tests.adapters.conftest import assert_the_note_was_masked, effects
from tests.adapters.shop import tools as shop_tools

SHOP_TOOLS = [tool(function) for function in shop_tools.TOOLS]


def scripted(calls: tuple[tuple[str, dict[str, Any]], ...]) -> GenericFakeChatModel:
    """One tool call per model turn, in order, then a final answer."""
    turns = [
        AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"c{turn}"}])
        for turn, (name, args) in enumerate(calls)
    ]
    return GenericFakeChatModel(messages=iter([*turns, AIMessage(content="done")]))


def graph(calls: ProctorToolCalls, model: GenericFakeChatModel) -> CompiledStateGraph[Any]:
    builder = StateGraph(MessagesState)
    builder.add_node("agent", lambda state: {"messages": [model.invoke(state["messages"])]})
    builder.add_node("tools", calls.tool_node(SHOP_TOOLS))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def tool_messages(messages: list[BaseMessage]) -> dict[str, ToolMessage]:
    return {m.name or "": m for m in messages if isinstance(m, ToolMessage)}


def _calls(**options: Any) -> ProctorToolCalls:
    return ProctorToolCalls(server="shop", annotations=shop_tools.ANNOTATIONS, **options)


@pytest.fixture
def thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": "t-1"}}


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(
    shop: Proctor, thread: dict[str, Any]
) -> None:
    app = graph(_calls(), scripted(shop_tools.SCRIPT))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        state = app.invoke({"messages": [("user", "Sort out order A-1")]}, thread)
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    seen = tool_messages(state["messages"])
    assert (
        seen["lookup_order"].content
        == f"order A-1: 2 items, paid with card {shop_tools.MASKED_CARD}"
    )
    assert shop_tools.CARD not in str(state["messages"])
    assert seen["refund"].status == seen["delete_order"].status == "error"
    assert "denied the call to `delete_order`" in str(seen["delete_order"].content)
    assert "the IBAN came from a tool's output" in str(seen["transfer"].content)


def test_the_tool_gets_the_arguments_the_input_scan_masked(
    shop: Proctor, thread: dict[str, Any]
) -> None:
    app = graph(_calls(), scripted((shop_tools.NOTE,)))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        app.invoke({"messages": [("user", "note the card")]}, thread)
    assert_the_note_was_masked(shop)


def test_async_graphs_are_governed_alike(shop: Proctor, thread: dict[str, Any]) -> None:
    app = graph(_calls(), scripted(shop_tools.SCRIPT))

    async def run() -> dict[str, Any]:
        with shop.session(agent="desk-bot", user="alice", run_id="ticket-2"):
            return await app.ainvoke({"messages": [("user", "Sort out order A-1")]}, thread)

    state = asyncio.run(run())
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.MASKED_CARD in str(tool_messages(state["messages"])["lookup_order"].content)


def test_a_held_call_pauses_the_graph_and_runs_once_approved(
    shop: Proctor, thread: dict[str, Any]
) -> None:
    app = graph(_calls(on_block="interrupt"), scripted(shop_tools.SCRIPT[2:3]))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-3"):
        paused = app.invoke({"messages": [("user", "refund A-1")]}, thread)
        (pause,) = paused["__interrupt__"]
        assert pause.value["action"] == "call:shop/refund"
        assert shop_tools.ran == []
        shop.approvals.approve(pause.value["approval_id"], by="supervisor")
        state = app.invoke(Command(resume="approved"), thread)
    assert shop_tools.ran == ["refund"]
    assert tool_messages(state["messages"])["refund"].content == "refunded 400.0 on A-1"
    assert "__interrupt__" not in state


def test_a_held_calls_interrupt_shows_the_arguments_masked(
    shop: Proctor, thread: dict[str, Any]
) -> None:
    """The interrupt's value is stored in the graph's checkpoints: no card in clear there."""
    args = {"order_id": f"A-1 (card {shop_tools.CARD})", "amount": 400.0}
    app = graph(_calls(on_block="interrupt"), scripted((("refund", args),)))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-3"):
        paused = app.invoke({"messages": [("user", "refund A-1")]}, thread)
    (pause,) = paused["__interrupt__"]
    assert pause.value["args"]["order_id"] == f"A-1 (card {shop_tools.MASKED_CARD})"


def test_resumed_before_the_approval_the_call_is_refused(
    shop: Proctor, thread: dict[str, Any]
) -> None:
    app = graph(_calls(on_block="interrupt"), scripted(shop_tools.SCRIPT[2:3]))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-4"):
        app.invoke({"messages": [("user", "refund A-1")]}, thread)
        state = app.invoke(Command(resume="approved"), thread)  # said yes, but not in proctor
    assert shop_tools.ran == []
    refused = tool_messages(state["messages"])["refund"]
    assert refused.status == "error"
    assert "held the call to `refund`" in str(refused.content)


def test_on_block_raise_stops_the_graph(shop: Proctor, thread: dict[str, Any]) -> None:
    app = graph(_calls(on_block="raise"), scripted(shop_tools.SCRIPT[3:4]))
    with (
        shop.session(agent="desk-bot", user="alice"),
        pytest.raises(ActionDenied, match="orders are never deleted"),
    ):
        app.invoke({"messages": [("user", "delete A-1")]}, thread)
    assert shop_tools.ran == []


def test_on_block_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="on_block"):
        _calls(on_block="pause")
