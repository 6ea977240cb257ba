"""`proctor policy replay`: recorded calls re-decided under new policies."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from proctor.cli.demo import load_scenario
from proctor.cli.main import cli
from proctor.clock import ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.request import Agent, RunState, User
from proctor.model.tiers import Tier
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store
from proctor.storage.state import open_state_stores

OLD = """
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: large, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
  - {id: reads, action: "read:*", effect: allow}
limits:
  - {id: budget, action: "write:refund", sum: args.amount, max: 150, window: 1d}
"""
NEW = """
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 50"}
  - {id: large, action: "write:refund", effect: require_approval, when: "args.amount > 50"}
  - {id: reads, action: "read:*", effect: allow, when: "args.order != 'secret'"}
"""


def _runtime(db: str, policy: str) -> Runtime:
    """A runtime on ``db`` that decides with ``policy`` for a verified `bot`, at a fixed time."""
    return Runtime(
        policies=load_policies(texts=[policy]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.VERIFIED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(db),
        state=open_state_stores(db),
        clock=ManualClock(datetime(2026, 11, 20, 10, tzinfo=UTC)),
    )


def _record(tmp_path: Path) -> str:
    db = str(tmp_path / "proctor.db")
    runtime = _runtime(db, OLD)
    alice = User("alice", ("*",))
    for amount in (20, 80, 90, 500):  # the 90 is over the budget: its rules allowed it
        runtime.check("write:refund", agent="bot", user=alice, args={"amount": amount})
    runtime.check("read:orders", agent="bot", user=alice, args={"order": "secret"})
    runtime.check("read:orders", agent="bot", user=alice, args={"order": "A-1"})
    runtime.check("read:orders", agent="nobody", user=alice)
    runtime.check("write:refund", agent="bot", user=User("bob"), args={"amount": 1})
    runtime.close()
    return db


def _replay(db: str, text: str, tmp_path: Path, *extra: str) -> dict:
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    result = CliRunner().invoke(
        cli, ["policy", "replay", "--policy", str(policy), "--db", db, "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_an_unchanged_policy_reports_no_change(tmp_path: Path) -> None:
    db = _record(tmp_path)
    report = _replay(db, OLD, tmp_path)
    assert report["changed"] == 0
    assert report["replayed"] == 6
    assert report["unchanged"] == 6
    assert report["not_replayed"] == {"unknown_agent": 1, "scope_missing": 1}


def test_a_stricter_policy_reports_what_would_change(tmp_path: Path) -> None:
    db = _record(tmp_path)
    report = _replay(db, NEW, tmp_path)
    assert report["by_outcome"] == {"newly needing approval": 2, "newly denied": 1}
    changes = {(c["before"], c["after"]): c for c in report["changes"]}
    assert changes[("allow", "require_approval")]["count"] == 2
    amounts = [e["args"]["amount"] for e in changes[("allow", "require_approval")]["examples"]]
    assert amounts == [80, 90]
    denied = changes[("allow", "deny")]["examples"][0]
    assert denied["args"] == {"order": "secret"}


def test_since_leaves_older_calls_out(tmp_path: Path) -> None:
    db = _record(tmp_path)
    report = _replay(db, NEW, tmp_path, "--since", "2026-11-21T00:00:00Z")
    assert report["examined"] == 0


def test_the_text_report(tmp_path: Path) -> None:
    db = _record(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text(NEW)
    result = CliRunner().invoke(cli, ["policy", "replay", "--policy", str(policy), "--db", db])
    assert result.exit_code == 0, result.output
    assert "newly needing approval: 2 (were allow)" in result.output
    assert "newly denied: 1 (were allow)" in result.output
    assert "not replayed" in result.output


EXAMPLE = Path(__file__).parents[2] / "examples" / "customer_service"


def test_replaying_the_demo_policies_in_force_changes_nothing(tmp_path: Path) -> None:
    """The tainted-IBAN payment, the masked card, the late e-mail: each decided again alike
    (its recorded taint, findings and scan verdict replayed, in the config's time zone)."""
    db = str(tmp_path / "demo.db")
    assert load_scenario().run(db, console=Console(file=io.StringIO()))
    options = ["--policy", str(EXAMPLE / "policies"), "--config", str(EXAMPLE / "proctor.yaml")]
    result = CliRunner().invoke(cli, ["policy", "replay", *options, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["changed"] == 0, report["changes"]
    assert report["unreproducible"] == {}
    assert report["replayed"] >= 10
    with sqlite3.connect(db) as connection:
        bodies = [json.loads(row[0]) for row in connection.execute("SELECT body FROM audit")]
    held = [b for b in bodies if b["action"] == "write:payment" and b["kind"] == "decision"]
    assert held[0]["extra"]["taint"]  # the record replayed above carries its taint


REDACTED = """
name: mail
rules:
  - {id: mail, action: "write:email", effect: allow, when: "args.to == 'dana@example.org'"}
  - {id: runs, action: "read:orders", effect: allow, when: "run.tool_calls < 100"}
"""
STRICTER = """
name: mail
rules:
  - {id: mail, action: "write:email", effect: allow, when: "args.to == 'eve@example.org'"}
  - {id: runs, action: "read:orders", effect: allow, when: "run.tool_calls < 0"}
"""


def test_inputs_a_record_does_not_hold_are_named_not_reported_as_changes(tmp_path: Path) -> None:
    db = str(tmp_path / "proctor.db")
    runtime = _runtime(db, REDACTED)
    alice = User("alice", ("*",))
    sent = runtime.check("write:email", agent="bot", user=alice, args={"to": "dana@example.org"})
    assert sent.allowed
    runtime.check("read:orders", agent="bot", user=alice, run=RunState("r-1", tool_calls=3))
    runtime.close()
    same = _replay(db, REDACTED, tmp_path)  # the e-mail address is a placeholder in the record
    assert (same["changed"], same["unchanged"]) == (0, 0)
    assert same["unreproducible"] == {"args": 1, "run": 1}  # no record keeps run counters
    report = _replay(db, STRICTER, tmp_path)
    assert report["changed"] == 0
    assert report["unreproducible"] == {"args": 1, "run": 1}
    policy = tmp_path / "policy.yaml"
    result = CliRunner().invoke(cli, ["policy", "replay", "--policy", str(policy), "--db", db])
    assert "arguments the record keeps redacted or as a digest" in result.output
