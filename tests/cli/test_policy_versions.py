"""``proctor policy push|versions|activate|diff|show`` and ``proctor status`` on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from proctor.cli.main import cli
from proctor.errors import ProctorError
from proctor.runtime import build_runtime
from proctor.storage import open_audit_store

ALLOW = "name: p\nrules:\n  - {id: reads, action: 'read:*', effect: allow}\n"
DENY = "name: p\nrules:\n  - {id: no-reads, action: 'read:*', effect: deny}\n"
BROKEN = "name: p\nrules:\n  - {id: bad, action: 'read:*', effect: perhaps}\n"
CONFIG = """\
policies: [policy.yaml]
roles:
  support: {scopes: ["*"]}
agents:
  - {id: bot, role: support, tier: verified}
storage: {audit: proctor.db, policies: store}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(ALLOW)
    path = tmp_path / "proctor.yaml"
    path.write_text(CONFIG)
    return path


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _json(*args: str) -> Any:
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _refused(result: Result) -> str:
    assert isinstance(result.exception, ProctorError), result.output
    return result.exception.code


def test_push_versions_diff_activate_and_show(config: Path, tmp_path: Path) -> None:
    at = ["--config", str(config)]
    first = _json("policy", "push", *at, "--message", "reads allowed", "--as", "ops")
    assert (first["version"], first["created"]) == (1, True)
    again = _json("policy", "push", *at)
    assert (again["version"], again["created"]) == (1, False)  # the same set: no new version
    (tmp_path / "deny.yaml").write_text(DENY)
    second = _json("policy", "push", str(tmp_path / "deny.yaml"), *at, "-m", "reads denied")
    assert second["version"] == 2
    listed = _json("policy", "versions", *at)
    assert listed["active"] == 2
    assert [(v["version"], v["message"]) for v in listed["versions"]] == [
        (2, "reads denied"),
        (1, "reads allowed"),
    ]
    diff = _cli("policy", "diff", "1", "2", *at)
    assert "-  - {id: reads" in diff.output
    assert "+  - {id: no-reads" in diff.output
    denied = _json("check", "read:orders", "--agent", "bot", *at)  # a one-shot command
    assert denied["rule_ids"] == ["no-reads"]
    rolled = _json("policy", "activate", "1", *at)
    assert rolled["digest"] == first["digest"]
    assert _json("policy", "versions", *at)["active"] == 1
    shown = _json("policy", "show", "--digest", second["digest"], *at)
    assert [s["text"] for s in shown["sources"]] == [DENY]
    records = _changes(config)
    assert [r["action"] for r in records] == ["policy:push"] * 2 + ["policy:activate"]
    assert records[0]["user"]["sub"] == "ops"
    assert records[0]["extra"]["digest"] == first["digest"]
    assert records[-1]["action"] == "policy:activate"
    assert records[-1]["extra"]["credential"]["kind"] == "cli"


def test_a_set_with_errors_is_refused_and_nothing_is_stored(config: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN)
    result = _cli("policy", "push", str(tmp_path / "broken.yaml"), "--config", str(config))
    assert result.exit_code != 0
    assert _refused(result) == "invalid_policy"
    assert _json("policy", "versions", "--config", str(config))["versions"] == []


def test_an_empty_set_is_refused_unless_asked_for(config: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing here\n")
    refused = _cli("policy", "push", str(tmp_path / "empty.yaml"), "--config", str(config))
    assert _refused(refused) == "policy_set_empty"
    assert _json("policy", "versions", "--config", str(config))["versions"] == []
    pushed = _json("policy", "push", str(tmp_path / "empty.yaml"), "--allow-empty",
                   "--config", str(config))  # fmt: skip
    assert pushed["policies"] == 0


def test_an_unknown_version_or_digest_is_refused_with_a_code(config: Path) -> None:
    at = ["--config", str(config)]
    assert _refused(_cli("policy", "activate", "7", *at)) == "policy_version_unknown"
    assert _refused(_cli("policy", "show", "--digest", "sha256:00", *at)) == (
        "policy_digest_unknown"
    )
    assert _refused(_cli("policy", "diff", "1", "2", *at)) == "policy_version_unknown"


def test_a_decision_names_its_digest_and_show_prints_that_set(config: Path) -> None:
    # a process deciding from files keeps its texts by digest when it starts
    runtime = build_runtime(config, role="sdk", policies_from_store=False)
    try:
        decision = runtime.check("read:orders", agent="bot")
        runtime.audit.flush()
        record = runtime.audit.get(decision.decision_id)
        status = _json("status", "--config", str(config))
    finally:
        runtime.close()
    assert record is not None
    digest = record["extra"]["policy_digest"]
    shown = _json("policy", "show", "--digest", digest, "--config", str(config))
    assert [s["text"] for s in shown["sources"]] == [ALLOW]
    (process,) = status["processes"]
    assert (process["role"], process["state"], process["policy_digest"]) == ("sdk", "files", digest)


def _changes(config: Path) -> list[dict[str, Any]]:
    store = open_audit_store(str(config.parent / "proctor.db"))
    try:
        return [r for r in store.tail(100) if r["kind"] == "policy_change"]
    finally:
        store.close()


def test_explain_names_the_set_and_replay_re_decides_under_a_stored_one(
    config: Path, tmp_path: Path
) -> None:
    at = ["--config", str(config)]
    _json("policy", "push", *at)
    runtime = build_runtime(config, role="sdk")  # decides with version 1 from the store
    try:
        decision = runtime.check("read:orders", agent="bot")
        runtime.audit.flush()
    finally:
        runtime.close()
    assert decision.allowed
    explained = _json("explain", decision.decision_id, *at)
    digest = explained["record"]["extra"]["policy_digest"]
    assert any(digest in line for line in explained["explanation"])
    (tmp_path / "deny.yaml").write_text(DENY)
    denying = _json("policy", "push", str(tmp_path / "deny.yaml"), *at)
    replayed = _json("policy", "replay", "--digest", denying["digest"], *at)
    assert replayed["by_outcome"] == {"newly denied": 1}
    unchanged = _json("policy", "replay", "--version", "1", *at)
    assert unchanged["changed"] == 0
    both = _cli("policy", "replay", "--version", "1", "--digest", digest, *at)
    assert both.exit_code == 2
