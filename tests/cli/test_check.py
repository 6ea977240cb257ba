"""`proctor check` on the seed policy, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.cli.main import cli

SEED = (
    Path(__file__).parents[2]
    / "examples"
    / "customer_service"
    / "policies"
    / "verified-agent-policy.yaml"
)
KEYS = {"effect", "allowed", "reason", "rule_ids", "decision_id", "effective_scopes"}


def _check(tmp_path: Path, *args: str) -> dict[str, object]:
    db = str(tmp_path / "audit.db")
    result = CliRunner().invoke(cli, ["check", "--policy", str(SEED), "--db", db, "--json", *args])
    assert result.exit_code == 0, result.output
    body: dict[str, object] = json.loads(result.output)
    assert set(body) >= KEYS
    return body


@pytest.mark.parametrize(
    ("action", "at", "effect"),
    [
        ("read:orders", "2026-11-24T12:00:00Z", "allow"),
        ("write:email", "2026-11-24T10:00:00Z", "allow"),
        ("write:email", "2026-11-24T21:00:00Z", "deny"),
        ("delete:customer", "2026-11-24T10:00:00Z", "deny"),
        ("write:refund", "2026-11-24T10:00:00Z", "deny"),
    ],
)
def test_the_seed_policy_decides_as_intended(
    tmp_path: Path, action: str, at: str, effect: str
) -> None:
    body = _check(tmp_path, "--agent", "bot", "--tier", "verified", "--at", at, action)
    assert body["effect"] == effect
    assert body["allowed"] is (effect == "allow")


def test_delete_carries_the_authors_reason(tmp_path: Path) -> None:
    body = _check(tmp_path, "--tier", "verified", "delete:repo")
    assert body["reason"] == "Verified agents cannot delete resources"
    assert body["rule_ids"] == ["verified-agent-policy#3"]


def test_args_parse_as_json_and_scopes_intersect(tmp_path: Path) -> None:
    body = _check(
        tmp_path,
        "--tier",
        "verified",
        "--user",
        "bob",
        "--user-scope",
        "write:*",
        "--arg",
        "amount=150",
        "read:orders",
    )
    assert body["effect"] == "deny"
    assert "user `bob` holds no scope" in str(body["reason"])


def test_a_naive_time_is_read_in_the_policy_zone(tmp_path: Path) -> None:
    body = _check(tmp_path, "--tier", "verified", "--at", "2026-11-24T16:30", "write:email")
    assert body["effect"] == "allow"


@pytest.mark.parametrize(
    "args",
    [
        ["--policy", "/no/such/file.yaml", "read:x"],
        ["--policy", str(SEED), "--arg", "novalue", "read:x"],
        ["--policy", str(SEED), "--at", "yesterday", "read:x"],
        ["read:x"],
    ],
)
def test_bad_input_exits_2(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "check", "--db", str(tmp_path / "a.db"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "error[" in result.stderr


def test_the_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "proctor"
    result = subprocess.run(
        [
            str(exe),
            "check",
            "--policy",
            str(SEED),
            "--db",
            str(tmp_path / "a.db"),
            "--tier",
            "verified",
            "--json",
            "read:orders",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["effect"] == "allow"


SHOP = SEED.parents[1] / "proctor.yaml"


@pytest.mark.parametrize(
    ("amount", "without", "with_flag"),
    [(40, 0, 0), (150, 0, 4), (5000, 0, 1)],
)
def test_exit_code_reports_the_effect_only_when_asked(
    tmp_path: Path, amount: int, without: int, with_flag: int
) -> None:
    base = ["check", "--config", str(SHOP), "--db", str(tmp_path / "a.db"), "--user", "alice",
            "--arg", f"amount={amount}", "write:refund"]  # fmt: skip
    assert CliRunner().invoke(cli, base).exit_code == without
    flagged = CliRunner().invoke(cli, [*base[:-1], "--exit-code", "--json", "write:refund"])
    assert flagged.exit_code == with_flag, flagged.output
    assert json.loads(flagged.output)["decision_id"]  # the decision is still printed
