"""The smolagents adapter, in a real `ToolCallingAgent` driven by a scripted `Model` (smolagents
ships no model double; its documented way is a `Model` subclass with `generate`)."""

from __future__ import annotations

from typing import Any

import pytest
from smolagents import ToolCallingAgent, tool
from smolagents.memory import ActionStep
from smolagents.models import (
    ChatMessage,
    ChatMessageToolCall,
    ChatMessageToolCallFunction,
    MessageRole,
    Model,
)

from proctor import ActionDenied, Proctor
from proctor.adapters.smolagents import governed_tools
from tests.adapters.conftest import assert_the_note_was_masked, effects
from tests.adapters.shop import tools as shop_tools

SHOP_TOOLS = [tool(function) for function in shop_tools.TOOLS]


class ScriptedModel(Model):
    """One tool call per model turn, in order, then the final answer."""

    def __init__(self, calls: tuple[tuple[str, dict[str, Any]], ...]) -> None:
        super().__init__(model_id="scripted")
        self.turns = [*calls, ("final_answer", {"answer": "done"})]

    def generate(self, messages: Any, **kwargs: Any) -> ChatMessage:
        name, args = self.turns.pop(0)
        call = ChatMessageToolCall(
            id=f"c{len(self.turns)}",
            type="function",
            function=ChatMessageToolCallFunction(name=name, arguments=args),
        )
        return ChatMessage(role=MessageRole.ASSISTANT, content="", tool_calls=[call])


def observations(agent: ToolCallingAgent) -> dict[str, str]:
    """What the model was told after each tool call, by tool name."""
    return {
        step.tool_calls[0].name: str(step.observations)
        for step in agent.memory.steps
        if isinstance(step, ActionStep) and step.tool_calls
    }


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    tools = governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
    agent = ToolCallingAgent(tools=tools, model=ScriptedModel(shop_tools.SCRIPT), max_steps=10)
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        assert agent.run("Sort out order A-1") == "done"
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    seen = observations(agent)
    assert f"paid with card {shop_tools.MASKED_CARD}" in seen["lookup_order"]
    assert shop_tools.CARD not in str(agent.memory.get_full_steps())
    assert "held the call to `refund`" in seen["refund"]
    assert "denied the call to `delete_order`" in seen["delete_order"]
    assert "the IBAN came from a tool's output" in seen["transfer"]


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    tools = governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS)
    agent = ToolCallingAgent(tools=tools, model=ScriptedModel((shop_tools.NOTE,)), max_steps=3)
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        agent.run("note the card")
    assert_the_note_was_masked(shop)


def test_the_wrapper_keeps_the_tool_and_raises_when_asked(shop: Proctor) -> None:
    (delete,) = governed_tools(SHOP_TOOLS[3:4], server="shop", on_block="raise")
    assert (delete.name, delete.inputs, delete.output_type) == (
        "delete_order",
        SHOP_TOOLS[3].inputs,
        SHOP_TOOLS[3].output_type,
    )
    with shop.session(agent="desk-bot", user="alice"), pytest.raises(ActionDenied):
        delete(order_id="A-1")
    assert shop_tools.ran == []
