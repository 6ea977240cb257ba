"""Several upstream servers behind one proxy session, named by prefix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import TextContent

from tests.mcp.conftest import DECLARED, EVERYTHING, PROXY, SOURCES, TIME, audit_records

pytestmark = pytest.mark.anyio


async def test_two_servers_behind_one_session(workdir: Path, node_servers: None) -> None:
    config = workdir / "proctor.yaml"
    servers = {
        "time": {"command": TIME},
        "everything": {"command": [*EVERYTHING], "tools": {"get-sum": "read:sum"}},
    }
    text = (
        config.read_text()
        .replace(DECLARED, "")
        .replace("mcp_proxy:\n  servers:\n", "mcp_proxy:\n  servers:\n" + _servers(servers))
    )
    config.write_text(text)
    (workdir / "policy.yaml").write_text(
        (workdir / "policy.yaml").read_text()
        + '  - {id: sums, action: "read:sum", effect: allow}\n'
    )
    params = StdioServerParameters(
        command=PROXY[0],
        args=[*PROXY[1:], "--config", str(config)],
        env={**SOURCES, "PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice"},
        cwd=str(workdir),
    )
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        hello = await session.initialize()
        assert hello.capabilities.tools is not None
        assert hello.capabilities.prompts is not None
        listed = {tool.name for tool in (await session.list_tools()).tools}
        assert {"time__get_current_time", "everything__echo", "everything__get-sum"} <= listed
        assert "everything__get-env" not in listed

        now = await session.call_tool("time__get_current_time", {"timezone": "UTC"})
        assert now.structured_content is not None
        summed = await session.call_tool("everything__get-sum", {"a": 2, "b": 3})
        assert "5" in _text(summed)
        slow = await session.call_tool(
            "everything__trigger-long-running-operation",
            {"duration": 0.2, "steps": 2},
            progress_callback=on_progress,
        )
        assert not slow.is_error
        assert progress == [1, 2]
        unknown = await session.call_tool("get_current_time", {})
        assert unknown.is_error
        assert "<server>__<name>" in _text(unknown)
        denied = await session.call_tool("everything__get-env", {})
        assert denied.is_error

        prompts = {prompt.name for prompt in (await session.list_prompts()).prompts}
        assert "everything__simple-prompt" in prompts
        prompt = await session.get_prompt("everything__args-prompt", {"city": "Oslo"})
        assert "Oslo" in str(prompt.messages[0].content)
        resources = (await session.list_resources()).resources
        assert resources
        read_back = await session.read_resource(resources[0].uri)
        assert read_back.contents

    actions = [r["action"] for r in audit_records(workdir) if r["kind"] == "decision"]
    assert actions == [
        "call:time/get_current_time",
        "read:sum",
        "call:everything/trigger-long-running-operation",
        "call:everything/get-env",
        "get:everything/prompt",
        "read:everything/resource",
    ]


def _servers(servers: dict[str, dict[str, object]]) -> str:
    return "".join(f"    {name}: {json.dumps(spec)}\n" for name, spec in servers.items())


def _text(result: object) -> str:
    content = getattr(result, "content", [])
    return " ".join(item.text for item in content if isinstance(item, TextContent))
