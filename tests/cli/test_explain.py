"""`proctor explain` and the shadow mark of `proctor audit tail`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.clock import ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store
from proctor.storage.state import open_state_stores

POLICIES = [
    """
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: large, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
  - {id: emails, action: "write:email", effect: allow}
limits:
  - {id: budget, action: "write:refund", sum: args.amount, max: 100, window: 1d, per: [user]}
""",
    """
name: trial
mode: audit
rules:
  - {id: no-email, action: "write:email", effect: deny, reason: "e-mail is under review"}
""",
]
ALICE = User("alice", ("*",), {"tenant": "shop"})


def _runtime(db: str) -> Runtime:
    return Runtime(
        policies=load_policies(texts=POLICIES),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.VERIFIED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(db),
        state=open_state_stores(db),
        clock=ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC)),
    )


def _explain(db: str, decision_id: str) -> list[str]:
    result = CliRunner().invoke(cli, ["explain", decision_id, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["explanation"]


def test_a_limit_denial_is_explained_with_its_counters(tmp_path: Path) -> None:
    db = str(tmp_path / "proctor.db")
    runtime = _runtime(db)
    runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 80})
    denied = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 30})
    runtime.close()
    lines = _explain(db, denied.decision_id)
    text = "\n".join(lines)
    assert "was denied" in lines[0]
    assert "User: `alice` (tenant=shop)." in lines
    assert "Agent: `bot`, role `support`, tier `verified`" in text
    assert "The rules let it through (`small`); then a limit decided." in lines
    assert "limit `budget` for user `alice`: 80 of 100 used" in text
    assert "Scopes held: `*`." in lines


def test_an_approval_is_explained(tmp_path: Path) -> None:
    db = str(tmp_path / "proctor.db")
    runtime = _runtime(db)
    asked = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    approval_id = asked.obligations[0]["approval_id"]
    runtime.state.approvals.decide(
        approval_id, approve=True, by="carol", reason="fine", now=runtime.clock()
    )
    runtime.close()
    text = "\n".join(_explain(db, asked.decision_id))
    assert f"Approval `{approval_id}`: approved by `carol` (fine)" in text
    assert "held for a human approval" in text


def test_shadow_denials_stand_out(tmp_path: Path) -> None:
    db = str(tmp_path / "proctor.db")
    runtime = _runtime(db)
    shadowed = runtime.check("write:email", agent="bot", user=ALICE)
    runtime.close()
    assert shadowed.allowed
    text = "\n".join(_explain(db, shadowed.decision_id))
    assert "would have been denied: e-mail is under review" in text
    result = CliRunner().invoke(cli, ["audit", "tail", "--db", db])
    assert "[shadow" in result.output


def test_an_unknown_decision(tmp_path: Path) -> None:
    db = str(tmp_path / "proctor.db")
    _runtime(db).close()
    result = CliRunner().invoke(cli, ["explain", "nope", "--db", db])
    assert result.exit_code != 0
