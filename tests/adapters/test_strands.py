"""The Strands Agents adapter, in a real `Agent` driven by a scripted `Model` (Strands ships no
model double; its documented way is a custom model provider with `stream`). Strands needs mcp
1.x, so this runs in the second test environment (`make test-adapters-alt`); the main run
skips it when Strands is absent."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.adapters.conftest import (
    SHOP,
    assert_the_note_was_masked,
    assert_the_shop_script_was_governed,
    effects,
    framework,
)

framework("strands")

from strands import Agent, tool  # noqa: E402
from strands.models import Model  # noqa: E402
from strands.types.exceptions import EventLoopException  # noqa: E402

from proctor import ApprovalRequired, Proctor  # noqa: E402
from proctor.adapters.strands import ProctorHooks  # noqa: E402
from tests.adapters.shop import tools as shop_tools  # noqa: E402
from tests.adapters.test_docs import ASKED, run_snippet  # noqa: E402

SHOP_TOOLS = [tool(function) for function in shop_tools.TOOLS]


class ScriptedModel(Model):
    """One tool call per model turn, in order, then a final answer."""

    def __init__(self, calls: tuple[tuple[str, Any], ...]) -> None:
        self.turns = list(calls)
        self.seen: list[Any] = []

    def update_config(self, **model_config: Any) -> None:
        pass

    def get_config(self) -> Any:
        return {}

    def structured_output(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def stream(self, messages: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        self.seen = list(messages)
        yield {"messageStart": {"role": "assistant"}}
        if not self.turns:
            yield {"contentBlockDelta": {"delta": {"text": "done"}}}
            yield {"contentBlockStop": {}}
            yield {"messageStop": {"stopReason": "end_turn"}}
            return
        name, args = self.turns.pop(0)
        call_id = f"c{len(self.turns)}"
        yield {"contentBlockStart": {"start": {"toolUse": {"toolUseId": call_id, "name": name}}}}
        yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(args)}}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "tool_use"}}


def results(model: ScriptedModel) -> dict[str, str]:
    """What the model was given for each tool call, by tool name."""
    names = {
        block["toolUse"]["toolUseId"]: block["toolUse"]["name"]
        for message in model.seen
        for block in message["content"]
        if "toolUse" in block
    }
    return {
        names[block["toolResult"]["toolUseId"]]: str(block["toolResult"])
        for message in model.seen
        for block in message["content"]
        if "toolResult" in block
    }


def _hooks(**options: Any) -> ProctorHooks:
    return ProctorHooks(server="shop", annotations=shop_tools.ANNOTATIONS, **options)


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    model = ScriptedModel(shop_tools.SCRIPT)
    agent = Agent(model=model, tools=SHOP_TOOLS, hooks=[_hooks()], callback_handler=None)
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        agent("Sort out order A-1")
    assert_the_shop_script_was_governed(shop, results(model), str(model.seen))


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    model = ScriptedModel((shop_tools.NOTE,))
    agent = Agent(model=model, tools=SHOP_TOOLS, hooks=[_hooks()], callback_handler=None)
    with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
        agent("note the card")
    assert_the_note_was_masked(shop)


def test_without_a_session_no_tool_runs(shop: Proctor) -> None:
    model = ScriptedModel(shop_tools.SCRIPT[:1])
    Agent(model=model, tools=SHOP_TOOLS, hooks=[_hooks()], callback_handler=None)("look A-1 up")
    assert shop_tools.ran == []
    assert "outside a proctor session" in results(model)["lookup_order"]


def test_on_block_raise_stops_the_run(shop: Proctor) -> None:
    """Strands wraps what a hook raises in its `EventLoopException`, the refusal as the cause."""
    model = ScriptedModel(shop_tools.SCRIPT[2:3])
    agent = Agent(
        model=model, tools=SHOP_TOOLS, hooks=[_hooks(on_block="raise")], callback_handler=None
    )
    with (
        shop.session(agent="desk-bot", user="alice"),
        pytest.raises(EventLoopException) as raised,
    ):
        agent("refund A-1")
    assert isinstance(raised.value.__cause__, ApprovalRequired)
    assert raised.value.__cause__.approval_id is not None
    assert shop_tools.ran == []


def test_arguments_that_are_not_an_object_are_refused(shop: Proctor) -> None:
    model = ScriptedModel((("lookup_order", ["A-1"]),))
    agent = Agent(model=model, tools=SHOP_TOOLS, hooks=[_hooks()], callback_handler=None)
    with shop.session(agent="desk-bot", user="alice"):
        agent("look A-1 up")
    assert shop_tools.ran == []
    assert "are not an object" in results(model)["lookup_order"]


def test_the_doc_snippet_runs_as_printed(shop: Proctor) -> None:
    run_snippet("strands", shop, {"model": ScriptedModel(ASKED)})


def test_an_mcp_clients_tools_carry_the_hints_its_server_lists(shop: Proctor) -> None:
    """No `annotations=`: an `MCPClient`'s tools are described by what the shop's MCP server
    lists, as the proxy reads it, so the policy decides each call as through the proxy."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client
    from strands.tools.mcp import MCPClient

    server = StdioServerParameters(command=sys.executable, args=[str(SHOP / "server.py")])
    model = ScriptedModel(shop_tools.SCRIPT)
    with MCPClient(lambda: stdio_client(server)) as client:
        tools = client.list_tools_sync()
        agent = Agent(
            model=model, tools=tools, hooks=[ProctorHooks(server="shop")], callback_handler=None
        )
        with shop.session(agent="desk-bot", user="alice", run_id="ticket-1"):
            agent("Sort out order A-1")
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.MASKED_CARD in results(model)["lookup_order"]
    assert shop_tools.CARD not in str(results(model))
