"""The PydanticAI adapter, driven by PydanticAI's own `FunctionModel` (no LLM, no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from proctor import ApprovalRequired, Proctor
from proctor.adapters.pydantic_ai import ProctorToolset
from tests.adapters.conftest import assert_the_note_was_masked, effects
from tests.adapters.shop import tools as shop_tools


def scripted(calls: tuple[tuple[str, dict[str, Any]], ...]) -> FunctionModel:
    """One tool call per model turn, in order, then a final answer."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        turn = sum(isinstance(message, ModelResponse) for message in messages)
        if turn < len(calls):
            name, args = calls[turn]
            return ModelResponse(parts=[ToolCallPart(name, args, tool_call_id=f"c{turn}")])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(respond)


def returns(messages: list[ModelMessage]) -> dict[str, Any]:
    """What the model was given for each tool call, by tool name."""
    return {
        part.tool_name: part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    }


def _toolset(**options: Any) -> ProctorToolset:
    return ProctorToolset.of(
        shop_tools.TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS, **options
    )


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    agent = Agent(scripted(shop_tools.SCRIPT), toolsets=[_toolset()])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        result = agent.run_sync("Sort out order A-1")
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    seen = returns(result.all_messages())
    assert seen["lookup_order"] == f"order A-1: 2 items, paid with card {shop_tools.MASKED_CARD}"
    assert shop_tools.CARD not in str(result.all_messages())
    assert "held the call to `refund`" in seen["refund"]
    assert "denied the call to `delete_order`" in seen["delete_order"]
    assert "the IBAN came from a tool's output" in seen["transfer"]


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    agent = Agent(scripted((shop_tools.NOTE,)), toolsets=[_toolset()])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        agent.run_sync("note the card")
    assert_the_note_was_masked(shop)


def test_the_run_deps_may_carry_the_session_and_async_runs_work(shop: Proctor) -> None:
    agent = Agent(scripted(shop_tools.SCRIPT[:1]), toolsets=[_toolset()], deps_type=object)
    session = shop.session(agent="desk-bot", user="alice", run_id="ticket-2")
    result = asyncio.run(agent.run("look A-1 up", deps=session))
    assert shop_tools.MASKED_CARD in returns(result.all_messages())["lookup_order"]
    assert effects(shop) == {"call:shop/lookup_order": "allow"}


def test_without_a_session_no_tool_runs(shop: Proctor) -> None:
    agent = Agent(scripted(shop_tools.SCRIPT[:1]), toolsets=[_toolset()])
    result = agent.run_sync("look A-1 up")
    assert shop_tools.ran == []
    assert "outside a proctor session" in returns(result.all_messages())["lookup_order"]


def test_on_block_raise_stops_the_run(shop: Proctor) -> None:
    agent = Agent(scripted(shop_tools.SCRIPT[2:3]), toolsets=[_toolset(on_block="raise")])
    with (
        shop.session(agent="desk-bot", user="alice"),
        pytest.raises(ApprovalRequired) as raised,
    ):
        agent.run_sync("refund A-1")
    assert raised.value.approval_id is not None
    assert shop_tools.ran == []


def test_a_held_call_pauses_the_run_and_resumes_once_approved(shop: Proctor) -> None:
    """`defer`: PydanticAI's own human-in-the-loop; the call runs only once proctor approves."""
    agent = Agent(
        scripted(shop_tools.SCRIPT[2:3]),
        toolsets=[_toolset(on_block="defer")],
        output_type=[str, DeferredToolRequests],
    )
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-3"):
        paused = agent.run_sync("refund A-1")
        assert isinstance(paused.output, DeferredToolRequests)
        (request,) = paused.output.approvals
        approval = paused.output.metadata[request.tool_call_id]["approval_id"]
        # Approving in the framework alone runs nothing: proctor still holds the call.
        early = agent.run_sync(
            message_history=paused.all_messages(),
            deferred_tool_results=DeferredToolResults(approvals={request.tool_call_id: True}),
        )
        assert shop_tools.ran == []
        assert "held the call to `refund`" in returns(early.all_messages())["refund"]
        shop.approvals.approve(approval, by="supervisor")
        resumed = agent.run_sync(
            message_history=paused.all_messages(),
            deferred_tool_results=DeferredToolResults(approvals={request.tool_call_id: True}),
        )
    assert shop_tools.ran == ["refund"]
    assert returns(resumed.all_messages())["refund"] == "refunded 400.0 on A-1"
