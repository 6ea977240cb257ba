"""`proctor approvals list|approve|reject` on the demo's configuration, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor import ApprovalRequired, Proctor
from proctor.cli.main import cli

CONFIG = Path(__file__).parents[2] / "examples" / "customer_service" / "proctor.yaml"


def _refund(guard: Proctor, amount: float) -> str:
    with guard.session(user="dave"):
        decision = guard.check(
            "write:refund", user="dave", args={"order_id": "C-9", "amount": amount}
        )
    if decision.requires_approval:
        raise ApprovalRequired("write:refund", decision)
    return decision.effect.value


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args])
    failure = getattr(result.exception, "code", "") if result.exception else ""
    return result.exit_code, f"{result.output}{failure}"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "proctor.db")


def test_a_refund_approved_from_the_cli_goes_through_once(db: str) -> None:
    with Proctor.from_config(CONFIG, audit=db) as guard:
        with pytest.raises(ApprovalRequired) as held:
            _refund(guard, 250)
        approval_id = held.value.approval_id
        assert approval_id is not None
        code, output = _cli("approvals", "list", "--config", str(CONFIG), "--db", db, "--json")
        assert code == 0, output
        listed = json.loads(output)
        assert [item["approval_id"] for item in listed] == [approval_id]
        assert listed[0]["args"] == {"order_id": "C-9", "amount": 250}
        assert listed[0]["approvers"] == ["role:support-managers"]

        code, output = _cli(
            "approvals", "approve", approval_id, "--as", "bob", "--config", str(CONFIG), "--db", db
        )
        assert code != 0
        assert "approver_not_allowed" in output

        code, output = _cli(
            "approvals", "approve", approval_id, "--as", "carol", "--reason", "loyal customer",
            "--config", str(CONFIG), "--db", db, "--json",
        )  # fmt: skip
        assert code == 0, output
        assert json.loads(output)["status"] == "approved"

        with pytest.raises(ApprovalRequired):
            _refund(guard, 260)  # other arguments: a new request
        assert _refund(guard, 250) == "allow"
        with pytest.raises(ApprovalRequired):
            _refund(guard, 250)  # used up
        guard.runtime.audit.flush()
    code, output = _cli("audit", "tail", "--db", db, "--json", "-n", "50")
    records = json.loads(output)
    approval = next(r for r in records if r["kind"] == "approval")
    assert approval["extra"]["approver"] == "carol"
    assert approval["extra"]["credential"]["kind"] == "cli"  # an operator with the database
    assert approval["extra"]["credential"]["as"] == "carol"
    assert approval["extra"]["credential"]["operator"]
    assert approval["reason"] == "approved by `carol`: loyal customer"
    assert approval["extra"]["approval_id"] == approval_id


def test_a_rejected_refund_never_passes(db: str) -> None:
    with Proctor.from_config(CONFIG, audit=db) as guard:
        with pytest.raises(ApprovalRequired) as held:
            _refund(guard, 300)
        approval_id = held.value.approval_id
        assert approval_id is not None
        code, output = _cli(
            "approvals", "reject", approval_id, "--as", "carol", "--config", str(CONFIG),
            "--db", db,
        )  # fmt: skip
        assert code == 0, output
        assert "rejected" in output
        code, output = _cli(
            "approvals", "approve", approval_id, "--as", "carol", "--config", str(CONFIG),
            "--db", db,
        )  # fmt: skip
        assert code != 0
        assert "approval_not_pending" in output
        with pytest.raises(ApprovalRequired) as again:
            _refund(guard, 300)
        assert again.value.approval_id != approval_id
    code, output = _cli(
        "approvals", "list", "--status", "rejected", "--config", str(CONFIG), "--db", db, "--json"
    )
    assert code == 0
    assert [item["approval_id"] for item in json.loads(output)] == [approval_id]
    code, output = _cli("approvals", "list", "--status", "all", "--config", str(CONFIG), "--db", db)
    assert code == 0
    assert "approvals (all)" in output


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_as_needs_the_state_database_and_never_creates_one(tmp_path: Path, verb: str) -> None:
    missing = tmp_path / "elsewhere.db"
    code, output = _cli(
        "approvals", verb, "01ABC", "--as", "carol", "--config", str(CONFIG), "--db", str(missing)
    )
    assert code != 0
    assert "no_state_database" in output
    assert not missing.exists()
    code, output = _cli("approvals", verb, "01ABC", "--as", "carol", "--db", ":memory:")
    assert code != 0
    assert "no_state_database" in output


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (("list",), "storage_not_found"),
        (("list", "--json", "--status", "all"), "storage_not_found"),
        (("approve", "01ABC", "--as", "carol"), "no_state_database"),
        (("reject", "01ABC", "--as", "carol"), "no_state_database"),
    ],
)
def test_without_a_config_or_database_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...], code: str
) -> None:
    monkeypatch.chdir(tmp_path)
    status, output = _cli("approvals", *command)
    assert status != 0
    assert code in output
    status, output = _cli("approvals", *command, "--db", str(tmp_path / "typo.db"))
    assert status != 0
    assert code in output
    assert list(tmp_path.iterdir()) == []
