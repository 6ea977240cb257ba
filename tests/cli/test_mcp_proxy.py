"""`proctor mcp-proxy`: its options, and bad input refused before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.errors import ErrorGroup
from proctor.mcp.errors import McpProxyError


def test_help_names_the_identity_variables() -> None:
    result = CliRunner().invoke(cli, ["mcp-proxy", "--help"])
    assert result.exit_code == 0
    assert "PROCTOR_TOKEN" in result.output
    assert "--upstream" in result.output


def test_no_policy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["mcp-proxy", "--", "true"])
    assert isinstance(result.exception, McpProxyError)
    assert result.exception.code == "no_policy_given"


def test_a_command_and_a_url_are_refused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: p\nrules: []\n")
    options = ["--policy", str(policy), "--db", str(tmp_path / "a.db")]
    upstream = ["--upstream", "http://127.0.0.1:1/mcp"]
    result = CliRunner().invoke(cli, ["mcp-proxy", *options, *upstream, "--", "true"])
    assert isinstance(result.exception, McpProxyError)
    assert "not both" in result.exception.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("mcp_proxy:\n  sever: {}\n", "did you mean `servers`?"),
        (
            "mcp_proxy:\n  servers:\n    git: {tool: {git_reset: 'delete:repo'}}\n",
            "did you mean `tools`?",
        ),
        (
            "mcp_proxy:\n  servers:\n    git: {comand: [uvx, mcp-server-git]}\n",
            "did you mean `command`?",
        ),
        ("sever: {}\n", "did you mean `server`?"),
        ("approvals:\n  webhok: {url: 'http://h'}\n", "did you mean `webhook`?"),
        ("audit: {store_arg: clear}\n", "did you mean `store_args`?"),
    ],
)
def test_config_typos_under_nested_sections_get_the_right_hint(
    tmp_path: Path, text: str, hint: str
) -> None:
    config = tmp_path / "proctor.yaml"
    config.write_text(text)
    result = CliRunner().invoke(cli, ["mcp-proxy", "--config", str(config), "--", "true"])
    assert isinstance(result.exception, ErrorGroup)
    (error,) = result.exception.errors
    assert error.code == "config_unknown_key"
    assert error.hint == hint
