"""The CrewAI adapter, in a real `Crew` driven by a scripted `BaseLLM` (CrewAI ships no model
double; its documented way is a custom LLM with `call`). CrewAI needs mcp 1.x and openai 2.x,
so this runs in the second test environment (`make test-adapters-alt`); the main run skips it
when CrewAI is absent."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import Field

from tests.adapters.conftest import (
    assert_the_note_was_masked,
    assert_the_shop_script_was_governed,
    framework,
)

os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")  # no network from the tests
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
framework("crewai")

from crewai import Agent, Crew, Task  # noqa: E402
from crewai.llms.base_llm import BaseLLM  # noqa: E402
from crewai.tools import tool  # noqa: E402

from proctor import ActionDenied, Proctor  # noqa: E402
from proctor.adapters.crewai import governed_tools  # noqa: E402
from tests.adapters.shop import tools as shop_tools  # noqa: E402
from tests.adapters.test_docs import ASKED, run_snippet  # noqa: E402

SHOP_TOOLS = [tool(function) for function in shop_tools.TOOLS]
Turn = tuple[str, Any] | Callable[[], None]


class ScriptedLLM(BaseLLM):  # type: ignore[misc]
    """One tool call per model turn (ReAct text), in order, then the final answer; a callable
    turn runs between two calls (a person approving, say)."""

    turns: list[Any] = Field(default_factory=list)
    seen: list[Any] = Field(default_factory=list)

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        self.seen.append(messages)
        while self.turns and callable(self.turns[0]):
            self.turns.pop(0)()
        if not self.turns:
            return "Thought: I now know the final answer\nFinal Answer: done"
        name, arguments = self.turns.pop(0)
        return f"Thought: {name}\nAction: {name}\nAction Input: {json.dumps(arguments)}"

    def supports_function_calling(self) -> bool:
        return False  # the ReAct loop: CrewAI parses the action from the text


def scripted(turns: tuple[Turn, ...]) -> ScriptedLLM:
    return ScriptedLLM(model="scripted", turns=list(turns))


def crew(llm: ScriptedLLM, tools: list[Any]) -> Crew:
    agent = Agent(
        role="desk", goal="sort orders out", backstory="the shop's desk", tools=tools, llm=llm
    )
    task = Task(description="Sort out order A-1", expected_output="done", agent=agent)
    return Crew(agents=[agent], tasks=[task])


def observations(llm: ScriptedLLM) -> dict[str, str]:
    """What the model was told after each tool call, by tool name (its last request)."""
    seen: dict[str, str] = {}
    for message in llm.seen[-1]:
        text = str(message.get("content", ""))
        if message.get("role") == "assistant" and "\nObservation: " in text:
            action = text.split("Action: ", 1)[1].split("\n", 1)[0]
            seen[action] = text.split("\nObservation: ", 1)[1]
    return seen


def _governed(**options: Any) -> list[Any]:
    return governed_tools(SHOP_TOOLS, server="shop", annotations=shop_tools.ANNOTATIONS, **options)


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    llm = scripted(shop_tools.SCRIPT)
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        assert str(crew(llm, _governed()).kickoff()) == "done"
    assert_the_shop_script_was_governed(shop, observations(llm), str(llm.seen))


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    llm = scripted((shop_tools.NOTE,))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        crew(llm, _governed()).kickoff()
    assert_the_note_was_masked(shop)


def test_a_held_call_runs_once_approved(shop: Proctor) -> None:
    """The identical call made again after the approval is checked again and runs (a governed
    tool's results are never put in CrewAI's tool cache, which would answer it unchecked)."""
    refund = shop_tools.SCRIPT[2]

    def approve() -> None:
        (pending,) = shop.approvals.list(status="pending")
        shop.approvals.approve(pending.approval_id, by="supervisor")

    # (CrewAI refuses one call made twice in a row itself: a lookup comes between.)
    llm = scripted((refund, approve, shop_tools.SCRIPT[0], refund))
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-2"):
        crew(llm, _governed()).kickoff()
    assert shop_tools.ran == ["lookup_order", "refund"]
    assert observations(llm)["refund"].startswith("refunded 400.0 on A-1")


def test_without_a_session_no_tool_runs(shop: Proctor) -> None:
    llm = scripted(shop_tools.SCRIPT[:1])
    crew(llm, _governed()).kickoff()
    assert shop_tools.ran == []
    assert "outside a proctor session" in observations(llm)["lookup_order"]


def test_the_wrapper_keeps_the_tool_and_raises_when_asked(shop: Proctor) -> None:
    (delete,) = governed_tools(SHOP_TOOLS[3:4], server="shop", on_block="raise")
    assert (delete.name, delete.description, delete.args_schema) == (
        "delete_order",
        SHOP_TOOLS[3].description,
        SHOP_TOOLS[3].args_schema,
    )
    with shop.session(agent="desk-bot", user="alice"), pytest.raises(ActionDenied):
        delete.run(order_id="A-1")
    assert shop_tools.ran == []


def test_the_doc_snippet_runs_as_printed(shop: Proctor) -> None:
    run_snippet("crewai", shop, {"model": scripted(ASKED)})
