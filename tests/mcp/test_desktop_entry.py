"""The README's Claude Desktop entry, run as printed: launched from `/`, its paths absolute.

Only the placeholders change (`/home/me/...` become this machine's paths) and
`uvx` is a shim that runs the installed `mcp-server-git`, as uvx would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.mcp.conftest import GIT, SOURCES

README = Path(__file__).resolve().parents[2] / "README.md"
PROCTOR = Path(sys.executable).parent / "proctor"

CONFIG = """\
policies: [policy.yaml]
roles:
  assistant: {scopes: ["call:*", "read:*", "write:*", "delete:*"]}
agents:
  - {id: desktop-assistant, role: assistant, tier: verified}
users:
  me: {scopes: ["call:*", "read:*", "write:*", "delete:*"]}
storage: {audit: audit.db}
mcp_proxy:
  servers:
    git:
      tools: {git_status: "read:repo", git_log: "read:repo", git_reset: "delete:repo"}
"""
POLICY = """\
name: desktop
rules:
  - {id: repo-reads, action: "read:repo", effect: allow}
  - {id: no-deletes, action: "delete:repo", effect: deny, reason: "history is never rewritten"}
"""

pytestmark = pytest.mark.anyio


def readme_entry() -> dict[str, Any]:
    """The `"git": {...}` entry of the README's MCP proxy section, parsed."""
    section = README.read_text().split("## The MCP proxy", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's MCP proxy section has no JSON entry"
    entry: dict[str, Any] = json.loads("{" + block.group(1) + "}")["git"]
    return entry


def placed(entry: dict[str, Any], tmp_path: Path, repo: Path) -> StdioServerParameters:
    """The entry with this machine's paths for the README's placeholders."""
    config = tmp_path / "proctor.yaml"
    config.write_text(CONFIG)
    (tmp_path / "policy.yaml").write_text(POLICY)
    shims = tmp_path / "bin"
    shims.mkdir()
    uvx = shims / "uvx"
    uvx.write_text(f'#!/bin/sh\n[ "$1" = mcp-server-git ] && shift\nexec {GIT} "$@"\n')
    uvx.chmod(0o755)
    places = {
        "/home/me/.local/bin/proctor": str(PROCTOR),
        "/home/me/proctor.yaml": str(config),
        "/home/me/repo": str(repo),
    }
    command, args = entry["command"], list(entry["args"])
    assert Path(command).is_absolute(), "the command is not absolute"
    assert command in places, "the command is not the README's placeholder"
    assert Path(args[args.index("--config") + 1]).is_absolute(), "the config is not absolute"
    path = f"{shims}{os.pathsep}{os.environ['PATH']}"
    return StdioServerParameters(
        command=places[command],
        args=[places.get(arg, arg) for arg in args],
        env={**entry["env"], **SOURCES, "PATH": path},
        cwd="/",
    )


async def test_the_readme_entry_denies_what_its_config_denies(
    tmp_path: Path, scratch_repo: Path
) -> None:
    assert PROCTOR.exists(), "the `proctor` executable is not installed next to this python"
    head = _head(scratch_repo)
    params = placed(readme_entry(), tmp_path, scratch_repo)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = {tool.name for tool in (await session.list_tools()).tools}
        status = await session.call_tool("git_status", {"repo_path": str(scratch_repo)})
        reset = await session.call_tool("git_reset", {"repo_path": str(scratch_repo)})
    assert "git_status" in listed
    assert "git_reset" not in listed
    assert not status.is_error
    assert reset.is_error
    assert "history is never rewritten" in json.dumps(reset.model_dump())
    assert _head(scratch_repo) == head


def test_without_its_name_the_entry_refuses_to_start(tmp_path: Path, scratch_repo: Path) -> None:
    """The entry as it was (no `--name`): the server is `mcp-server-git`, which the config lacks."""
    params = placed(readme_entry(), tmp_path, scratch_repo)
    args = list(params.args)
    at = args.index("--name")
    del args[at : at + 2]
    result = subprocess.run(
        [params.command, *args],
        cwd="/",
        env={**os.environ, **(params.env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "mcp_server_undeclared" in result.stderr
    assert "`mcp-server-git`" in result.stderr
    assert "`git`" in result.stderr
    assert "--name git" in result.stderr


def _head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
