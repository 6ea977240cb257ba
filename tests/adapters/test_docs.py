"""docs/adapters.md: each framework's snippet runs as printed, at most ten lines, with
`proctor` over the shop's config, the shop's tools as plain functions and `model` the
framework's own offline model double scripted to look order A-1 up and refund it."""

from __future__ import annotations

import ast
import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proctor import Proctor
from tests.adapters.conftest import SHOP, effects
from tests.adapters.shop import tools as shop_tools

DOC = (Path(__file__).parents[2] / "docs" / "adapters.md").read_text(encoding="utf-8")
SNIPPETS = dict(re.findall(r"<!-- snippet: ([\w-]+) -->\n```python\n(.*?)^```$", DOC, re.S | re.M))
ASKED = (("lookup_order", {"order_id": "A-1"}), ("refund", {"order_id": "A-1", "amount": 400.0}))
DECIDED = {"call:shop/lookup_order": "allow", "call:shop/refund": "require_approval"}


def _openai() -> dict[str, Any]:
    from agents.testing import ScriptedModel, assistant_message, function_call

    turns = [[function_call(name, args, call_id=f"c{n}")] for n, (name, args) in enumerate(ASKED)]
    return {"model": ScriptedModel([*turns, [assistant_message("done")]])}


def _langchain() -> dict[str, Any]:
    from tests.adapters.test_langchain import _model

    return {"model": _model(*([call] for call in ASKED))}


def _langgraph() -> dict[str, Any]:
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import tools_condition

    model = _langchain()["model"]
    graph = StateGraph(MessagesState)
    graph.add_node("agent", lambda state: {"messages": [model.invoke(state["messages"])]})
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return {"graph": graph}


def _pydantic_ai() -> dict[str, Any]:
    from tests.adapters.test_pydantic_ai import scripted

    return {"model": scripted(ASKED)}


def _llama_index() -> dict[str, Any]:
    from tests.adapters.test_llama_index import scripted

    return {"model": scripted(ASKED)}


def _autogen() -> dict[str, Any]:
    from tests.adapters.test_autogen import scripted

    return {"model": scripted(ASKED)}


def _smolagents() -> dict[str, Any]:
    from tests.adapters.test_smolagents import ScriptedModel

    return {"model": ScriptedModel(ASKED)}


def _google_adk() -> dict[str, Any]:
    from tests.adapters.test_google_adk import scripted

    return {"model": scripted(ASKED)}


def _claude() -> dict[str, Any]:
    return {"shop_server": {"command": sys.executable, "args": [str(SHOP / "server.py")]}}


def _drive_the_hooks(names: dict[str, Any]) -> None:
    from tests.adapters.test_claude_agent_sdk import claude_code

    asyncio.run(claude_code(names["hooks"]))


def _approve_and_resume(names: dict[str, Any], proctor: Proctor) -> None:
    from langgraph.types import Command

    (pause,) = names["paused"]["__interrupt__"]
    assert shop_tools.ran == ["lookup_order"]
    proctor.approvals.approve(pause.value["approval_id"], by="supervisor")
    with proctor.session(agent="desk-bot", user="alice", run_id="ticket-7"):
        names["agent"].invoke(Command(resume=True), names["thread"])
    assert shop_tools.ran == ["lookup_order", "refund"]


SETUPS: dict[str, Callable[[], dict[str, Any]]] = {
    "openai-agents": _openai,
    "langchain": _langchain,
    "langgraph": _langgraph,
    "pydantic-ai": _pydantic_ai,
    "llama-index": _llama_index,
    "autogen": _autogen,
    "smolagents": _smolagents,
    "claude-agent-sdk": _claude,
    "google-adk": _google_adk,
}


# Frameworks tested in the second environment (`make test-adapters-alt`): their test modules
# run their snippets with `run_snippet`.
ALT_ENVIRONMENT = ("crewai", "strands")


def test_every_framework_has_one_short_snippet() -> None:
    assert sorted(SNIPPETS) == sorted([*SETUPS, *ALT_ENVIRONMENT])
    for name, code in SNIPPETS.items():
        assert len(code.splitlines()) <= 10, name


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_the_snippet_runs_as_printed(name: str, shop: Proctor) -> None:
    run_snippet(name, shop, SETUPS[name]())


def run_snippet(name: str, shop: Proctor, setup: dict[str, Any]) -> None:
    """Run ``name``'s snippet with the shop's names and ``setup``'s (its ``model``), and check
    that the lookup was allowed and ran and the refund was held."""
    names: dict[str, Any] = {
        "proctor": shop,
        **{function.__name__: function for function in shop_tools.TOOLS},
        **setup,
    }
    code = compile(
        SNIPPETS[name], f"docs/adapters.md:{name}", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    outcome = eval(code, names)  # top-level `await` makes a coroutine
    if asyncio.iscoroutine(outcome):
        asyncio.run(outcome)
    if name == "claude-agent-sdk":
        _drive_the_hooks(names)
        assert effects(shop)["call:shop/lookup_order"] == "allow"
        return
    assert effects(shop) == DECIDED
    if name == "langgraph":
        _approve_and_resume(names, shop)
    else:
        assert shop_tools.ran == ["lookup_order"]
