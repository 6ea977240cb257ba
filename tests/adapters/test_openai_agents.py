"""The OpenAI Agents SDK adapter, driven by the SDK's own ``ScriptedModel``: no LLM, no network."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, RunConfig, Runner, function_tool
from agents.exceptions import ToolInputGuardrailTripwireTriggered
from agents.testing import ScriptedModel, assistant_message, function_call

from proctor import ActionDenied, Proctor
from proctor.adapters.openai_agents import GovernedMCPServerStdio, ProctorGuardrails
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


@function_tool
def lookup_order(order_id: str) -> str:
    """Look an order up."""
    ran.append(("lookup_order", order_id))
    return f"order {order_id}: 2 items, shipped"


@function_tool
def refund(order_id: str, amount: float) -> str:
    """Refund an order."""
    ran.append(("refund", (order_id, amount)))
    return f"refunded {amount} on {order_id}"


@function_tool
def delete_order(order_id: str) -> str:
    """Delete an order."""
    ran.append(("delete_order", order_id))
    return "deleted"


@function_tool
def lookup_customer(customer_id: str) -> str:
    """Look a customer up."""
    ran.append(("lookup_customer", customer_id))
    return {"C-9": CUSTOMER, "C-10": LEAKY_CUSTOMER}[customer_id]


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


def _agent(model: ScriptedModel, guardrails: ProctorGuardrails) -> Agent[Any]:
    return Agent(
        name="support",
        model=model,
        tools=guardrails.govern([lookup_order, refund, delete_order]),
    )


def _run(agent: Agent[Any], context: Any = None) -> Any:
    return asyncio.run(
        Runner.run(agent, "help", context=context, run_config=RunConfig(tracing_disabled=True))
    )


def _tool_outputs(model: ScriptedModel) -> dict[str, str]:
    """What the model was given back for each tool call, by call id."""
    last = model.last_call
    assert last is not None
    return {
        item["call_id"]: _text(item["output"])
        for item in last.input
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    }


def _text(output: str | list[dict[str, Any]]) -> str:
    if isinstance(output, str):
        return output
    return "".join(part["text"] for part in output if part.get("type") == "input_text")


def test_allowed_denied_and_held_calls_in_one_run(guard: Proctor) -> None:
    model = ScriptedModel(
        [
            [
                function_call("lookup_order", {"order_id": "A-1"}, call_id="c1"),
                function_call("delete_order", {"order_id": "A-1"}, call_id="c2"),
                function_call("refund", {"order_id": "A-1", "amount": 250}, call_id="c3"),
            ],
            [assistant_message("done")],
        ]
    )
    agent = _agent(model, ProctorGuardrails(server="shop", actions={"refund": "write:refund"}))
    with guard.session(user=ALICE, run_id="ticket-7"):
        result = _run(agent)

    assert result.final_output == "done"
    assert ran == [("lookup_order", "A-1")]
    outputs = _tool_outputs(model)
    assert outputs["c1"] == "order A-1: 2 items, shipped"
    assert "denied the call to `delete_order`" in outputs["c2"]
    assert "Orders are never deleted by agents" in outputs["c2"]
    held = decisions(guard, "write:refund")[-1]
    (approval,) = guard.approvals.list()
    assert approval.requested_by_decision == held["decision_id"]
    assert f"Approval id: {approval.approval_id}" in outputs["c3"]
    assert "supervisor's approval" in outputs["c3"]

    lookup, delete = (
        decisions(guard, "call:shop/lookup_order")[-1],
        decisions(guard, "call:shop/delete_order")[-1],
    )
    assert (lookup["effect"], delete["effect"], held["effect"]) == (
        "allow",
        "deny",
        "require_approval",
    )
    for record in (lookup, delete, held):
        assert record["user"]["sub"] == "alice"
        assert record["agent"]["id"] == "support-bot"
        assert record["run_id"] == "ticket-7"
    assert held["args"] == {"order_id": "A-1", "amount": 250}


def test_results_are_redacted_or_withheld_before_the_model_sees_them(guard: Proctor) -> None:
    model = ScriptedModel(
        [
            [
                function_call("lookup_customer", {"customer_id": "C-9"}, call_id="c1"),
                function_call("lookup_customer", {"customer_id": "C-10"}, call_id="c2"),
            ],
            [assistant_message("done")],
        ]
    )
    agent = Agent(
        name="crm", model=model, tools=ProctorGuardrails(server="shop").govern([lookup_customer])
    )
    with guard.session(user=ALICE, run_id="ticket-12"):
        _run(agent)

    outputs = _tool_outputs(model)
    assert outputs["c1"] == REDACTED_CUSTOMER
    assert outputs["c2"].startswith("proctor withheld the result of `lookup_customer`")
    assert "AKIA" not in outputs["c2"]


def test_the_run_context_may_carry_the_session(guard: Proctor) -> None:
    model = ScriptedModel(
        [
            [function_call("refund", {"order_id": "A-2", "amount": 40}, call_id="c1")],
            [assistant_message("refunded")],
        ]
    )
    agent = _agent(model, ProctorGuardrails(server="shop", actions={"refund": "write:refund"}))
    _run(agent, context=guard.session(user=ALICE))

    assert ran == [("refund", ("A-2", 40))]
    assert decisions(guard, "write:refund")[-1]["user"]["sub"] == "alice"


def test_without_a_session_no_tool_runs(guard: Proctor) -> None:
    model = ScriptedModel(
        [
            [function_call("lookup_order", {"order_id": "A-1"}, call_id="c1")],
            [assistant_message("done")],
        ]
    )
    _run(_agent(model, ProctorGuardrails(server="shop")))

    assert ran == []
    assert "outside a proctor session" in _tool_outputs(model)["c1"]


def test_on_block_raise_stops_the_run(guard: Proctor) -> None:
    model = ScriptedModel([[function_call("delete_order", {"order_id": "A-1"}, call_id="c1")]])
    agent = _agent(model, ProctorGuardrails(server="shop", on_block="raise"))
    with guard.session(user=ALICE), pytest.raises(ToolInputGuardrailTripwireTriggered) as caught:
        _run(agent)

    assert ran == []
    blocked = caught.value.output.output_info
    assert isinstance(blocked, ActionDenied)
    assert blocked.decision.rule_ids == ("no-deletes",)


def test_hosted_tools_are_refused_rather_than_left_ungoverned() -> None:
    from agents import WebSearchTool

    with pytest.raises(TypeError, match="not a function tool"):
        ProctorGuardrails(server="shop").govern([WebSearchTool()])


def _time_server(**kwargs: Any) -> GovernedMCPServerStdio:
    return GovernedMCPServerStdio(
        {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone=UTC"]},
        client_session_timeout_seconds=30,
        name="time",
        **kwargs,
    )


def test_mcp_calls_are_checked_before_the_server_sees_them(guard: Proctor) -> None:
    model = ScriptedModel(
        [
            [
                function_call("get_current_time", {"timezone": "Europe/Paris"}, call_id="c1"),
                function_call(
                    "convert_time",
                    {"source_timezone": "UTC", "time": "10:00", "target_timezone": "Asia/Tokyo"},
                    call_id="c2",
                ),
            ],
            [assistant_message("done")],
        ]
    )

    async def main() -> None:
        async with _time_server() as server:
            agent = Agent(name="clock", model=model, mcp_servers=[server])
            with guard.session(user=ALICE, run_id="ticket-8"):
                await Runner.run(agent, "time?", run_config=RunConfig(tracing_disabled=True))
            # A direct call, never listed to a model, is governed all the same.
            with guard.session(user=ALICE):
                direct = await server.call_tool(
                    "convert_time",
                    {"source_timezone": "UTC", "time": "10:00", "target_timezone": "Asia/Tokyo"},
                )
            assert direct.is_error
            assert "Time conversions are not for this agent" in direct.content[0].text

    asyncio.run(main())
    outputs = _tool_outputs(model)
    assert json.loads(outputs["c1"])["timezone"] == "Europe/Paris"
    assert "denied the call to `convert_time`" in outputs["c2"]
    allowed = decisions(guard, "call:time/get_current_time")[-1]
    assert (allowed["effect"], allowed["user"]["sub"], allowed["run_id"]) == (
        "allow",
        "alice",
        "ticket-8",
    )
    assert [r["effect"] for r in decisions(guard, "call:time/convert_time")] == ["deny", "deny"]


def _scratch_repository(path: Path) -> Path:
    path.mkdir()
    author = {
        "GIT_AUTHOR_NAME": "Bob Stone",
        "GIT_AUTHOR_EMAIL": "bob.stone@example.com",
        "GIT_COMMITTER_NAME": "Bob Stone",
        "GIT_COMMITTER_EMAIL": "bob.stone@example.com",
    }
    env = {**os.environ, **author}
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    (path / "README").write_text("scratch\n")
    subprocess.run(["git", "-C", str(path), "add", "README"], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(path), "commit", "-qm", "reported by bob.stone@example.com"],
        check=True,
        env=env,
    )
    return path


def test_mcp_results_are_reviewed_and_blocks_can_raise(guard: Proctor, tmp_path: Path) -> None:
    repository = _scratch_repository(tmp_path / "repo")
    model = ScriptedModel(
        [
            [function_call("git_log", {"repo_path": str(repository)}, call_id="c1")],
            [assistant_message("done")],
        ]
    )
    server = GovernedMCPServerStdio(
        {"command": sys.executable, "args": ["-m", "mcp_server_git", "-r", str(repository)]},
        client_session_timeout_seconds=30,
        name="git",
        on_block="raise",
    )

    async def main() -> None:
        async with server:
            agent = Agent(name="git", model=model, mcp_servers=[server])
            with guard.session(user=ALICE, run_id="ticket-11"):
                await Runner.run(agent, "log?", run_config=RunConfig(tracing_disabled=True))
                with pytest.raises(ActionDenied) as caught:
                    await server.call_tool("git_reset", {"repo_path": str(repository)})
            assert caught.value.decision.rule_ids == ("no-resets",)

    asyncio.run(main())
    log = _tool_outputs(model)["c1"]
    assert "Author: Bob Stone" in log
    assert "bob.stone@example.com" not in log
    assert "Message: reported by [pii.email]" in log
    assert decisions(guard, "call:git/git_reset")[-1]["effect"] == "deny"


def test_the_shop_policy_allows_holds_denies_masks_and_catches_the_injected_iban(
    shop: Proctor,
) -> None:
    turns = [[function_call(name, args, call_id=name)] for name, args in shop_script.SCRIPT]
    model = ScriptedModel([*turns, [assistant_message("done")]])
    guard = ProctorGuardrails(server="shop", annotations=shop_script.ANNOTATIONS)
    tools = guard.govern([function_tool(function) for function in shop_script.TOOLS])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        _run(Agent(name="support", model=model, tools=tools))
    assert effects(shop) == shop_script.EXPECTED
    assert shop_script.ran == shop_script.EXPECTED_RAN
    seen = _tool_outputs(model)
    assert seen["lookup_order"] == f"order A-1: 2 items, paid with card {shop_script.MASKED_CARD}"
    assert "held the call to `refund`" in seen["refund"]
    assert "denied the call to `delete_order`" in seen["delete_order"]
    assert "the IBAN came from a tool's output" in seen["transfer"]


def test_a_function_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    """A guardrail can only allow or reject: the governed tool swaps in the masked arguments."""
    name, args = shop_script.NOTE
    model = ScriptedModel([[function_call(name, args, call_id="c1")], [assistant_message("ok")]])
    guard = ProctorGuardrails(server="shop")
    tools = guard.govern([function_tool(shop_script.add_note)])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        _run(Agent(name="support", model=model, tools=tools))
    assert_the_note_was_masked(shop)
    assert _tool_outputs(model) == {"c1": "noted on A-1; digits in the note: 0"}


def test_a_guardrail_given_directly_refuses_a_call_it_cannot_mask(shop: Proctor) -> None:
    """Without `govern`, nothing hands the tool the masked arguments: the call is refused."""
    name, args = shop_script.NOTE
    model = ScriptedModel([[function_call(name, args, call_id="c1")], [assistant_message("ok")]])
    guard = ProctorGuardrails(server="shop")
    tool = function_tool(shop_script.add_note, tool_input_guardrails=[guard.input_guardrail])
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        _run(Agent(name="support", model=model, tools=[tool]))
    assert shop_script.notes == []
    assert "only a tool governed with `ProctorGuardrails.govern`" in _tool_outputs(model)["c1"]
