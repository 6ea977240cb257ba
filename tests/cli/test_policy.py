"""``proctor policy validate``: errors and warnings, through the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from proctor.cli.main import cli
from tests.policy.test_loader import alias_bomb


def test_an_alias_bomb_is_refused_quickly_with_a_located_error(tmp_path: Path) -> None:
    # 9 levels of 9 aliases: about 400 bytes that would expand to 387 million values
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    assert bomb.stat().st_size < 600
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["policy", "validate", "--json", str(bomb)])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1
    (error,) = json.loads(result.output)["errors"]
    assert error["code"] == "yaml_alias"
    assert error["location"] == {"file": str(bomb), "line": 3, "column": 10}


def test_a_deny_rule_that_skips_on_error_is_warned_about(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "name: p\n"
        "rules:\n"
        "  - {id: big, action: 'write:transfer', effect: deny, when: 'args.amount > 10000',\n"
        "     on_error: skip}\n"
        "  - {id: ok, action: 'write:*', effect: allow, on_error: skip}\n"
    )
    result = CliRunner().invoke(cli, ["policy", "validate", "--json", str(policy)])
    assert result.exit_code == 0
    (warning,) = json.loads(result.output)["warnings"]
    assert warning["code"] == "policy_fails_open"
    assert "`big`" in warning["message"]
    assert warning["location"]["line"] == 4
    text = CliRunner().invoke(cli, ["policy", "validate", str(policy)])
    assert text.exit_code == 0
    assert "warning[policy_fails_open]" in text.output
