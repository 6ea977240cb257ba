"""The LangChain / LangGraph adapter, driven by langchain_core's fake chat model (no LLM)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

from proctor import ActionDenied, ApprovalRequired, Proctor
from proctor.adapters.langchain import GovernedTool, ProctorMiddleware, governed
from tests.adapters.conftest import (
    ALICE,
    CUSTOMER,
    LEAKY_CUSTOMER,
    REDACTED_CUSTOMER,
    assert_the_note_was_masked,
    decisions,
    effects,
)
from tests.adapters.shop import tools as shop_script

ran: list[tuple[str, Any]] = []
customer_record = [CUSTOMER]


@tool
def lookup_order(order_id: str) -> str:
    """Look an order up."""
    ran.append(("lookup_order", order_id))
    return f"order {order_id}: 2 items, shipped"


@tool
def refund(order_id: str, amount: float) -> str:
    """Refund an order."""
    ran.append(("refund", (order_id, amount)))
    return f"refunded {amount} on {order_id}"


@tool
def delete_order(order_id: str) -> str:
    """Delete an order."""
    ran.append(("delete_order", order_id))
    return "deleted"


@tool
async def lookup_customer(customer_id: str) -> str:
    """Look a customer up."""
    await asyncio.sleep(0)
    ran.append(("lookup_customer", customer_id))
    return customer_record[0]


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()
    customer_record[0] = CUSTOMER


class ScriptedChatModel(GenericFakeChatModel):
    """The fake chat model, bindable to tools (it ignores them and follows its script)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self


def _model(*calls: list[tuple[str, dict[str, Any]]]) -> ScriptedChatModel:
    """One model turn per list of (tool, args), then a final answer."""
    turns: list[AIMessage] = [
        AIMessage(
            content="",
            tool_calls=[
                {"name": name, "args": args, "id": f"c{turn}{index}", "type": "tool_call"}
                for index, (name, args) in enumerate(batch)
            ],
        )
        for turn, batch in enumerate(calls)
    ]
    return ScriptedChatModel(messages=iter([*turns, AIMessage(content="done")]))


def _tool_messages(result: dict[str, Any]) -> dict[str, ToolMessage]:
    return {m.name: m for m in result["messages"] if isinstance(m, ToolMessage)}


def test_the_middleware_runs_allowed_calls_and_stops_the_rest(guard: Proctor) -> None:
    model = _model(
        [
            ("lookup_order", {"order_id": "A-1"}),
            ("delete_order", {"order_id": "A-1"}),
            ("refund", {"order_id": "A-1", "amount": 250}),
        ]
    )
    agent = create_agent(
        model,
        [lookup_order, refund, delete_order],
        middleware=[ProctorMiddleware(server="shop", actions={"refund": "write:refund"})],
    )
    with guard.session(user=ALICE, run_id="ticket-7"):
        result = agent.invoke({"messages": [("user", "help")]})

    assert ran == [("lookup_order", "A-1")]
    messages = _tool_messages(result)
    assert messages["lookup_order"].content == "order A-1: 2 items, shipped"
    denied = messages["delete_order"]
    assert denied.status == "error"
    assert "Orders are never deleted by agents" in denied.content
    (approval,) = guard.approvals.list()
    assert f"Approval id: {approval.approval_id}" in messages["refund"].content
    assert result["messages"][-1].content == "done"

    records = [
        decisions(guard, "call:shop/lookup_order")[-1],
        decisions(guard, "call:shop/delete_order")[-1],
        decisions(guard, "write:refund")[-1],
    ]
    assert [r["effect"] for r in records] == ["allow", "deny", "require_approval"]
    assert {(r["user"]["sub"], r["agent"]["id"], r["run_id"]) for r in records} == {
        ("alice", "support-bot", "ticket-7")
    }
    assert records[2]["args"] == {"order_id": "A-1", "amount": 250}


def test_the_middleware_reviews_results_asynchronously(guard: Proctor) -> None:
    model = _model([("lookup_customer", {"customer_id": "C-9"})])
    agent = create_agent(model, [lookup_customer], middleware=[ProctorMiddleware(server="shop")])

    async def main() -> dict[str, Any]:
        with guard.session(user=ALICE, run_id="ticket-8"):
            return await agent.ainvoke({"messages": [("user", "who is C-9?")]})

    result = asyncio.run(main())
    assert ran == [("lookup_customer", "C-9")]
    assert _tool_messages(result)["lookup_customer"].content == REDACTED_CUSTOMER


def test_the_middleware_withholds_a_denied_result(guard: Proctor) -> None:
    customer_record[0] = LEAKY_CUSTOMER
    model = _model([("lookup_customer", {"customer_id": "C-9"})])
    agent = create_agent(model, [lookup_customer], middleware=[ProctorMiddleware(server="shop")])

    async def main() -> dict[str, Any]:
        with guard.session(user=ALICE):
            return await agent.ainvoke({"messages": [("user", "who is C-9?")]})

    message = _tool_messages(asyncio.run(main()))["lookup_customer"]
    assert message.status == "error"
    assert "withheld the result of `lookup_customer`" in message.content
    assert "AKIA" not in message.content


def test_the_middleware_can_raise_instead(guard: Proctor) -> None:
    model = _model([("refund", {"order_id": "A-1", "amount": 250})])
    agent = create_agent(
        model,
        [refund],
        middleware=[
            ProctorMiddleware(server="shop", actions={"refund": "write:refund"}, on_block="raise")
        ],
    )
    with guard.session(user=ALICE), pytest.raises(ApprovalRequired) as caught:
        agent.invoke({"messages": [("user", "refund")]})
    assert ran == []
    assert caught.value.approval_id == guard.approvals.list()[0].approval_id


def test_the_session_may_be_given_to_the_middleware(guard: Proctor) -> None:
    model = _model([("lookup_order", {"order_id": "A-3"})])
    session = guard.session(user=ALICE, run_id="ticket-9")
    agent = create_agent(
        model, [lookup_order], middleware=[ProctorMiddleware(server="shop", session=session)]
    )
    agent.invoke({"messages": [("user", "A-3?")]})
    assert ran == [("lookup_order", "A-3")]
    assert decisions(guard, "call:shop/lookup_order")[-1]["run_id"] == "ticket-9"


def test_without_a_session_no_tool_runs(guard: Proctor) -> None:
    agent = create_agent(
        _model([("lookup_order", {"order_id": "A-1"})]),
        [lookup_order],
        middleware=[ProctorMiddleware(server="shop")],
    )
    result = agent.invoke({"messages": [("user", "A-1?")]})
    assert ran == []
    assert "outside a proctor session" in _tool_messages(result)["lookup_order"].content


def test_the_middleware_hands_the_tool_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    name, args = shop_script.NOTE
    agent = create_agent(
        _model([(name, args)]),
        [tool(shop_script.add_note)],
        middleware=[ProctorMiddleware(server="shop")],
    )
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        agent.invoke({"messages": [("user", "note the card")]})
    assert_the_note_was_masked(shop)


def test_a_governed_tool_is_given_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    wrapped = governed(tool(shop_script.add_note), server="shop")
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        assert wrapped.invoke(shop_script.NOTE[1]) == "noted on A-1; digits in the note: 0"
    assert_the_note_was_masked(shop)


def test_a_governed_tool_keeps_its_name_description_and_schema() -> None:
    wrapped = governed(refund, server="shop", action="write:refund")
    assert isinstance(wrapped, BaseTool)
    assert (wrapped.name, wrapped.description) == (refund.name, refund.description)
    assert wrapped.args == refund.args
    assert (
        wrapped.tool_call_schema.model_json_schema() == refund.tool_call_schema.model_json_schema()
    )
    assert wrapped.gate.action_for("refund") == "write:refund"


def test_a_governed_tool_runs_allowed_calls_and_blocks_denied_ones(guard: Proctor) -> None:
    wrapped_refund = governed(refund, server="shop", action="write:refund")
    wrapped_delete = governed(delete_order, server="shop")
    with guard.session(user=ALICE, run_id="ticket-10"):
        assert wrapped_refund.invoke({"order_id": "A-1", "amount": 40}) == "refunded 40.0 on A-1"
        refused = wrapped_delete.invoke(
            {"name": "delete_order", "args": {"order_id": "A-1"}, "id": "c1", "type": "tool_call"}
        )
        held = wrapped_refund.invoke({"order_id": "A-1", "amount": 400})
    assert ran == [("refund", ("A-1", 40.0))]
    assert isinstance(refused, ToolMessage)
    assert (refused.status, refused.tool_call_id, refused.name) == ("error", "c1", "delete_order")
    assert "Orders are never deleted by agents" in refused.content
    assert "held the call to `refund`" in held
    assert [r["effect"] for r in decisions(guard, "write:refund")] == ["allow", "require_approval"]
    assert decisions(guard, "call:shop/delete_order")[-1]["user"]["sub"] == "alice"


def test_a_governed_tool_works_async_and_reviews_its_result(guard: Proctor) -> None:
    wrapped = governed(lookup_customer, server="shop")

    async def main() -> tuple[Any, Any]:
        with guard.session(user=ALICE):
            plain = await wrapped.ainvoke({"customer_id": "C-9"})
            message = await wrapped.ainvoke(
                {
                    "name": "lookup_customer",
                    "args": {"customer_id": "C-9"},
                    "id": "c2",
                    "type": "tool_call",
                }
            )
        return plain, message

    plain, message = asyncio.run(main())
    assert plain == REDACTED_CUSTOMER
    assert isinstance(message, ToolMessage)
    assert (message.content, message.tool_call_id) == (REDACTED_CUSTOMER, "c2")


def test_a_governed_tool_can_raise_instead(guard: Proctor) -> None:
    wrapped = governed(delete_order, server="shop", on_block="raise")
    with guard.session(user=ALICE), pytest.raises(ActionDenied):
        wrapped.invoke({"order_id": "A-1"})
    assert ran == []


def test_governed_tools_work_in_an_agent_without_the_middleware(guard: Proctor) -> None:
    model = _model([("lookup_order", {"order_id": "A-1"}), ("delete_order", {"order_id": "A-2"})])
    tools: list[GovernedTool] = [
        governed(lookup_order, server="shop"),
        governed(delete_order, server="shop"),
    ]
    agent = create_agent(model, tools)
    with guard.session(user=ALICE):
        result = agent.invoke({"messages": [("user", "help")]})
    assert ran == [("lookup_order", "A-1")]
    messages = _tool_messages(result)
    assert messages["lookup_order"].content == "order A-1: 2 items, shipped"
    assert messages["delete_order"].status == "error"


@tool
def lookup_order_in_state(order_id: str, runtime: ToolRuntime) -> str:
    """Look an order up, with the graph's state at hand."""
    ran.append(("lookup_order_in_state", (order_id, len(runtime.state["messages"]))))
    return f"order {order_id}"


def test_injected_arguments_are_not_part_of_the_check(guard: Proctor) -> None:
    model = _model(
        [("lookup_order_in_state", {"order_id": "A-1"})],
        [("lookup_order_in_state", {"order_id": "A-2"})],
    )
    agent = create_agent(
        model,
        [governed(lookup_order_in_state, server="shop", action="call:shop/lookup_order")],
        middleware=[
            ProctorMiddleware(
                server="shop", actions={"lookup_order_in_state": "call:shop/lookup_order"}
            )
        ],
    )
    with guard.session(user=ALICE):
        agent.invoke({"messages": [("user", "A-1?")]})
    assert [name for name, _ in ran] == ["lookup_order_in_state"] * 2
    # the middleware and the wrapper each checked each call, with the model's arguments only
    assert [r["args"] for r in decisions(guard, "call:shop/lookup_order")] == [
        {"order_id": "A-1"},
        {"order_id": "A-1"},
        {"order_id": "A-2"},
        {"order_id": "A-2"},
    ]


def test_once_approved_the_identical_call_runs(guard: Proctor) -> None:
    wrapped = governed(refund, server="shop", action="write:refund")
    with guard.session(user=ALICE, run_id="ticket-13"):
        held = wrapped.invoke({"order_id": "A-1", "amount": 400})
        (approval,) = guard.approvals.list()
        assert f"Approval id: {approval.approval_id}" in held
        guard.approvals.approve(approval.approval_id, by="carol")
        assert wrapped.invoke({"order_id": "A-1", "amount": 400}) == "refunded 400.0 on A-1"
    assert ran == [("refund", ("A-1", 400.0))]


def test_the_shop_policy_allows_holds_denies_masks_and_catches_the_injected_iban(
    shop: Proctor,
) -> None:
    model = _model(*([call] for call in shop_script.SCRIPT))
    middleware = ProctorMiddleware(server="shop", annotations=shop_script.ANNOTATIONS)
    tools = [tool(function) for function in shop_script.TOOLS]
    agent = create_agent(model, tools, middleware=[middleware])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        result = agent.invoke({"messages": [("user", "Sort out order A-1")]})
    assert effects(shop) == shop_script.EXPECTED
    assert shop_script.ran == shop_script.EXPECTED_RAN
    seen = _tool_messages(result)
    assert seen["lookup_order"].content == (
        f"order A-1: 2 items, paid with card {shop_script.MASKED_CARD}"
    )
    assert shop_script.CARD not in str(result["messages"])
    assert "held the call to `refund`" in str(seen["refund"].content)
    assert "denied the call to `delete_order`" in str(seen["delete_order"].content)
    assert "the IBAN came from a tool's output" in str(seen["transfer"].content)


def test_the_middleware_can_interrupt_the_agent_at_a_held_call(shop: Proctor) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    model = _model([shop_script.SCRIPT[2]])
    middleware = ProctorMiddleware(server="shop", on_block="interrupt")
    tools = [tool(function) for function in shop_script.TOOLS]
    agent = create_agent(model, tools, middleware=[middleware], checkpointer=InMemorySaver())
    thread: Any = {"configurable": {"thread_id": "t-1"}}
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-2"):
        paused = agent.invoke({"messages": [("user", "refund A-1")]}, thread)
        (pause,) = paused["__interrupt__"]
        assert shop_script.ran == []
        shop.approvals.approve(pause.value["approval_id"], by="supervisor")
        agent.invoke(Command(resume=True), thread)
    assert shop_script.ran == ["refund"]
