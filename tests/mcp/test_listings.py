"""Prompts and resources poisoned like tools, through the MCP wire: their lists are scanned.

A real proxy process between the official client and the real
``servers/poisoned_server.py``, whose prompt ``plan``, resource
``note://orders`` and template ``note://{day}`` carry orders for the model,
and whose ``review`` argument and ``note://contact`` name an address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import MCPError

from tests.mcp.conftest import POISONED, audit_records, proxied

pytestmark = pytest.mark.anyio


def _dumped(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(by_alias=True, exclude_none=True) for item in items]


async def test_poisoned_prompts_and_resources_are_withheld_or_masked(scanning: Path) -> None:
    async with proxied(scanning, POISONED, name="poisoned") as session:
        prompts = _dumped((await session.list_prompts()).prompts)
        resources = _dumped((await session.list_resources()).resources)
        templates = (await session.list_resource_templates()).resource_templates
        with pytest.raises(MCPError) as got:
            await session.get_prompt("plan")
        with pytest.raises(MCPError) as read:
            await session.read_resource("note://orders")
        reviewed = await session.get_prompt("review", {"text": "hi"})
    assert [p["name"] for p in prompts] == ["review"]
    assert prompts[0]["arguments"][0]["description"] == "The text (from [pii.email])."
    assert [(r["uri"], r.get("description")) for r in resources] == [
        ("note://today", "Today's note."),
        ("note://contact", "Write to [pii.email]."),
    ]
    assert templates == []
    assert got.value.error.message.startswith("prompt `plan` is not listed: its description")
    assert got.value.error.data == {"code": "mcp_prompt_withheld"}
    assert read.value.error.data == {"code": "mcp_resource_withheld"}
    assert reviewed.messages
    records = audit_records(scanning)
    changed = sorted(
        (str(r["kind"]), str(r["action"]), str(r["effect"]))
        for r in records
        if str(r.get("kind")).endswith("_description") and r["kind"] != "tool_description"
    )
    assert changed == [
        ("prompt_description", "get:poisoned/prompt", "allow"),
        ("prompt_description", "get:poisoned/prompt", "deny"),
        ("resource_description", "read:poisoned/resource", "allow"),
        ("resource_description", "read:poisoned/resource", "deny"),
        ("resource_description", "read:poisoned/resource", "deny"),
    ]
    refused = {str(r["code"]) for r in records if r.get("kind") == "decision"}
    assert {"mcp_prompt_withheld", "mcp_resource_withheld"} <= refused


async def test_a_withheld_prompt_is_refused_without_a_listing(scanning: Path) -> None:
    """A client that remembers prompts across sessions gets one without listing them."""
    async with proxied(scanning, POISONED, name="poisoned") as session:
        with pytest.raises(MCPError) as got:
            await session.get_prompt("plan")
        with pytest.raises(MCPError) as alike:
            await session.get_prompt("Plan")
    assert got.value.error.data == {"code": "mcp_prompt_withheld"}
    assert "it reads as `plan`: its description was withheld" in alike.value.error.message
    assert alike.value.error.data == {"code": "mcp_look_alike"}
