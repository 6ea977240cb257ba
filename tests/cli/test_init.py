"""`proctor init`: its files validate, a gateway started from them admits the printed key."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from tests.server.gateway import running_server


def _proctor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proctor.cli", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )  # fmt: skip


@pytest.mark.slow
def test_a_gateway_from_init_answers_with_the_printed_key(tmp_path: Path) -> None:
    made = _proctor("init", "--for", "gateway", "gw", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n"  # the key alone on stdout: KEY=$(proctor init ...)
    assert key.startswith("pa_")
    assert "next:" in made.stderr
    assert "proctor serve --config gw/proctor.yaml" in made.stderr
    config = tmp_path / "gw" / "proctor.yaml"
    written = [config, tmp_path / "gw" / "policies" / "starter.yaml"]
    assert all(key not in path.read_text() for path in written)  # shown once, never stored
    assert hashlib.sha256(key.encode()).hexdigest() in config.read_text()
    assert _proctor("config", "validate", str(config), cwd=tmp_path).returncode == 0
    assert _proctor("policy", "validate", str(written[1]), cwd=tmp_path).returncode == 0

    with running_server(config) as server:

        def check(action: str, bearer: str) -> httpx.Response:
            return httpx.post(
                f"{server.url}/v1/check",
                json={"action": action, "agent": "assistant", "user": "me"},
                headers={"Authorization": f"Bearer {bearer}"},
            )

        assert check("read:orders", key).json()["effect"] == "allow"
        assert check("write:orders", key).json()["effect"] == "require_approval"
        assert check("delete:orders", key).json()["effect"] == "deny"
        assert check("read:orders", key[:-1] + "x").status_code == 401
    log = server.log.read_text()
    assert f"proctor serve: listening on {server.url}" in log
    assert f"config     {config.resolve()}" in log
    assert "policies   1 (starter v1), 3 rules" in log
    assert f"database   {config.parent.resolve() / 'proctor.db'}" in log
    assert f"dashboard  {server.url}/ui" in log


@pytest.mark.parametrize("placement", ["sdk", "gateway", "mcp"])
def test_every_placement_writes_a_valid_config_and_three_commands(
    tmp_path: Path, placement: str
) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["init", "--for", placement, "--json", str(tmp_path / "p")])
    assert made.exit_code == 0, made.output
    body = json.loads(made.output)
    assert len(body["next"]) == 3
    assert body["next"][0] == f"proctor config validate {tmp_path / 'p' / 'proctor.yaml'}"
    assert body["admin_key_sha256"] == hashlib.sha256(body["admin_key"].encode()).hexdigest()
    checked = runner.invoke(cli, ["config", "validate", "--json", body["files"][0]])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["policies"] == [{"name": "starter", "version": 1}]
    assert ("mcp_proxy:" in Path(body["files"][0]).read_text()) is (placement == "mcp")


def test_init_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "proctor.yaml").write_text("policies: [mine.yaml]\n")
    result = _proctor("init", cwd=tmp_path)
    assert result.returncode == 2
    assert "error[init_file_exists]" in result.stderr
    assert result.stdout == ""  # no key printed for a config that was not written
    assert (tmp_path / "proctor.yaml").read_text() == "policies: [mine.yaml]\n"
    assert not (tmp_path / "policies").exists()


def test_init_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    result = _proctor("init", "taken", cwd=tmp_path)
    assert result.returncode == 2
    assert "'taken' is a file" in result.stderr
    assert (tmp_path / "taken").read_text() == "x"


def test_next_commands_quote_a_directory_for_the_shell(tmp_path: Path) -> None:
    odd = tmp_path / "my dir; touch pwned"
    made = CliRunner().invoke(cli, ["init", "--for", "gateway", "--json", str(odd)])
    assert made.exit_code == 0, made.output
    commands = json.loads(made.output)["next"]
    assert commands[0] == f"proctor config validate {shlex.quote(str(odd / 'proctor.yaml'))}"
    assert all(shlex.quote(str(odd / "proctor.yaml")) in c for c in commands[:2])
