"""The Claude Agent SDK adapter at the hook boundary: `PreToolUse` / `PostToolUse` inputs in the
SDK's documented shapes (its `PreToolUseHookInput` / `PostToolUseHookInput`), the tools run
between them as Claude Code would run an MCP server's tool (no CLI, no network)."""

from __future__ import annotations

import asyncio
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions, HookContext
from claude_agent_sdk.types import PostToolUseHookInput, PreToolUseHookInput

from proctor import Proctor
from proctor.adapters.claude_agent_sdk import ProctorHooks
from tests.adapters.conftest import assert_the_note_was_masked, effects
from tests.adapters.shop import tools as shop_tools

BY_NAME = {function.__name__: function for function in shop_tools.TOOLS}
CONTEXT: HookContext = {"signal": None}
BASE = {"session_id": "s-1", "transcript_path": "/tmp/transcript.jsonl", "cwd": "/srv/shop"}


def pre(name: str, args: dict[str, Any], tool_use_id: str) -> PreToolUseHookInput:
    return {
        **BASE,  # type: ignore[typeddict-item]
        "hook_event_name": "PreToolUse",
        "tool_name": name,
        "tool_input": args,
        "tool_use_id": tool_use_id,
    }


def post(name: str, args: dict[str, Any], tool_use_id: str, response: Any) -> PostToolUseHookInput:
    return {
        **BASE,  # type: ignore[typeddict-item]
        "hook_event_name": "PostToolUse",
        "tool_name": name,
        "tool_input": args,
        "tool_response": response,
        "tool_use_id": tool_use_id,
    }


async def claude_code(
    hooks: ProctorHooks, script: tuple[tuple[str, dict[str, Any]], ...] = shop_tools.SCRIPT
) -> dict[str, dict[str, Any]]:
    """What Claude Code does around each of the script's MCP tool calls, and what Claude reads."""
    read: dict[str, dict[str, Any]] = {}
    for n, (name, given) in enumerate(script):
        tool_name, tool_use_id = f"mcp__shop__{name}", f"toolu_{n}"
        before = await hooks.pre_tool_use(pre(tool_name, given, tool_use_id), tool_use_id, CONTEXT)
        decision = before.get("hookSpecificOutput", {})
        if decision.get("permissionDecision") == "deny":
            read[name] = {"denied": decision["permissionDecisionReason"]}
            continue
        args = decision.get("updatedInput", given)  # Claude Code runs the tool with it
        response = [{"type": "text", "text": BY_NAME[name](**args)}]
        after = await hooks.post_tool_use(
            post(tool_name, args, tool_use_id, response), tool_use_id, CONTEXT
        )
        replaced = after.get("hookSpecificOutput", {}).get("updatedMCPToolOutput", response)
        read[name] = {"output": replaced, "block": after.get("decision")}
    return read


def test_one_policy_allows_holds_denies_masks_and_catches_the_injected_iban(shop: Proctor) -> None:
    session = shop.session(agent="desk-bot", user="alice", run_id="ticket-1")
    hooks = ProctorHooks(session=session, annotations={"shop": shop_tools.ANNOTATIONS})
    read = asyncio.run(claude_code(hooks))
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    assert read["lookup_order"]["output"] == [
        {"type": "text", "text": f"order A-1: 2 items, paid with card {shop_tools.MASKED_CARD}"}
    ]
    assert shop_tools.CARD not in str(read)
    assert "held the call to `refund`" in read["refund"]["denied"]
    assert "denied the call to `delete_order`" in read["delete_order"]["denied"]
    assert "the IBAN came from a tool's output" in read["transfer"]["denied"]


def test_the_tool_gets_the_arguments_the_input_scan_masked(shop: Proctor) -> None:
    """Claude Code runs the tool with the hook's `updatedInput`: the card masked."""
    hooks = ProctorHooks(session=shop.session(agent="desk-bot", user="alice", run_id="ticket-1"))
    asyncio.run(claude_code(hooks, (shop_tools.NOTE,)))
    assert_the_note_was_masked(shop)


def test_built_in_tools_are_the_builtin_servers_and_the_hooks_plug_into_the_options(
    shop: Proctor,
) -> None:
    hooks = ProctorHooks(session=shop.session(agent="desk-bot", user="alice"))
    assert hooks.split("Bash") == ("claude-code", "Bash")
    assert hooks.split("mcp__shop__refund") == ("shop", "refund")
    assert hooks.split("mcp__broken") == ("claude-code", "mcp__broken")
    denied = asyncio.run(hooks.pre_tool_use(pre("Bash", {"command": "ls"}, "t-1"), "t-1", CONTEXT))
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert effects(shop) == {"call:claude-code/Bash": "deny"}  # no rule allows it
    options = ClaudeAgentOptions(hooks=hooks.hooks())  # type: ignore[arg-type]
    assert options.hooks is not None
    assert [m.hooks for m in options.hooks["PreToolUse"]] == [[hooks.pre_tool_use]]


def test_an_output_never_seen_before_it_ran_is_checked_then(shop: Proctor) -> None:
    hooks = ProctorHooks(session=shop.session(agent="desk-bot", user="alice"))
    response = [{"type": "text", "text": "deleted"}]
    after = asyncio.run(
        hooks.post_tool_use(
            post("mcp__shop__delete_order", {"order_id": "A-1"}, "t-9", response), "t-9", CONTEXT
        )
    )
    assert after["decision"] == "block"
    assert "delete_order" in after["hookSpecificOutput"]["updatedToolOutput"]


def test_without_a_session_every_call_is_denied(shop: Proctor) -> None:
    hooks = ProctorHooks(annotations={"shop": shop_tools.ANNOTATIONS})
    before = asyncio.run(
        hooks.pre_tool_use(pre("mcp__shop__lookup_order", {"order_id": "A-1"}, "t"), "t", CONTEXT)
    )
    assert "outside a proctor session" in before["hookSpecificOutput"]["permissionDecisionReason"]
