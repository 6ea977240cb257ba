"""Upstream servers from the command line and the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.config import load_config
from proctor.mcp.errors import McpProxyError
from proctor.mcp.upstreams import server_name, tool_actions, upstreams


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["uvx", "mcp-server-git", "--repository", "."], "mcp-server-git"),
        (["npx", "-y", "@modelcontextprotocol/server-everything"], "server-everything"),
        (["python", "-m", "my_server"], "my_server"),
        (["/usr/local/bin/weather.py"], "weather"),
        ([], "upstream"),
    ],
)
def test_default_names(command: list[str], expected: str) -> None:
    assert server_name(command) == expected


def test_url_name() -> None:
    assert server_name([], "http://127.0.0.1:9000/mcp") == "127.0.0.1"


def test_config_servers_and_actions(tmp_path: Path) -> None:
    (tmp_path / "proctor.yaml").write_text(
        """\
mcp_proxy:
  servers:
    git:
      env: {GIT_AUTHOR_NAME: bot}
      cwd: repos
      tools: {git_reset: "delete:repo"}
    web:
      url: http://127.0.0.1:9000/mcp
"""
    )
    loaded = load_config(tmp_path / "proctor.yaml")
    found = upstreams(loaded, name="git", command=["uvx", "mcp-server-git"], url=None)
    assert [item.name for item in found] == ["git", "web"]
    assert found[0].env == {"GIT_AUTHOR_NAME": "bot"}
    assert found[0].cwd == str(tmp_path / "repos")
    assert found[1].url == "http://127.0.0.1:9000/mcp"
    assert tool_actions(loaded)["git"] == {"git_reset": "delete:repo"}


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(McpProxyError, match="no upstream server"):
        upstreams(None, name=None, command=[], url=None)
    with pytest.raises(McpProxyError, match="not both"):
        upstreams(None, name=None, command=["x"], url="http://h/mcp")
    with pytest.raises(McpProxyError, match="not usable in an action"):
        upstreams(None, name="a b", command=["x"], url=None)
    (tmp_path / "proctor.yaml").write_text("mcp_proxy:\n  servers:\n    git: {tools: {x: 'a:*'}}\n")
    with pytest.raises(Exception, match="an action, not a pattern"):
        load_config(tmp_path / "proctor.yaml")
