"""`proctor audit tail` (filters, one line a record, --follow) and `audit show`, on real SQLite."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.cli.audit_tail import follow_trail, trail_filter
from proctor.cli.main import cli
from proctor.storage import open_audit_store

SHOP = Path(__file__).parents[2] / "examples" / "customer_service" / "proctor.yaml"
CALLS = [  # (user, action, amount): allow, require_approval, deny, deny (bob), allow
    ("alice", "write:refund", 40),
    ("alice", "write:refund", 150),
    ("alice", "write:refund", 5000),
    ("bob", "write:refund", 40),
    ("bob", "read:orders", None),
]


def _check(db: Path, user: str, action: str, amount: int | None = None) -> dict[str, object]:
    args = ["--arg", f"amount={amount}"] if amount is not None else []
    result = CliRunner().invoke(
        cli, ["check", "--config", str(SHOP), "--db", str(db), "--user", user, *args, "--json",
              action],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body: dict[str, object] = json.loads(result.output)
    return body


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    for user, action, amount in CALLS:
        _check(path, user, action, amount)
    return path


def _tail(db: Path, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["audit", "tail", "--db", str(db), "--json", *args])
    assert result.exit_code == 0, result.output
    records: list[dict[str, object]] = json.loads(result.output)
    return records


def test_each_filter_narrows_the_trail(db: Path) -> None:
    assert [r["seq"] for r in _tail(db)] == [1, 2, 3, 4, 5]
    assert [r["seq"] for r in _tail(db, "--effect", "deny")] == [3, 4]
    assert [r["seq"] for r in _tail(db, "--user", "bob")] == [4, 5]
    assert [r["seq"] for r in _tail(db, "--action", "read:*")] == [5]
    assert [r["seq"] for r in _tail(db, "--action", "write:refund", "-n", "2")] == [3, 4]
    assert [r["seq"] for r in _tail(db, "--agent", "support-bot", "--kind", "decision")] == [
        1, 2, 3, 4, 5,
    ]  # fmt: skip
    assert _tail(db, "--kind", "approval", "--effect", "allow") == []
    assert _tail(db, "--since", "2999-01-01T00:00:00Z") == []
    assert len(_tail(db, "--since", "1h")) == 5


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--action", "write:ord*"], "invalid_argument"),
        (["--since", "yesterday"], "export_invalid_time"),
    ],
)
def test_bad_filters_are_coded_errors(db: Path, args: list[str], code: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "audit", "tail", "--db", str(db), *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"error[{code}]" in result.stderr


def test_piped_output_keeps_one_line_per_record_with_ids_and_kinds(db: Path) -> None:
    """A user id with a newline and a terminal escape cannot split or colour a line."""
    _check(db, "mallory\n     7  forged\x1b[31m", "read:orders")
    result = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "audit", "tail", "--db", str(db)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    records = _tail(db)
    assert len(lines) == len(records) == 6
    for line, record in zip(lines, records, strict=True):
        assert str(record["decision_id"]) in line
        assert " decision " in line
    assert "mallory\\x0a     7  forged\\x1b[31m" in lines[-1]
    assert "\x1b" not in result.stdout


def test_follow_prints_records_committed_after_it_started(db: Path) -> None:
    """Two polls; the injected sleep commits a record between them."""
    store = open_audit_store(str(db))
    seen: list[int] = []
    try:
        follow_trail(
            store,
            trail_filter(user="carol"),
            store.head().seq,
            lambda row: seen.append(row.seq),
            interval=1.0,
            sleep=lambda _: [_check(db, u, "read:orders") for u in ("bob", "carol")],
            polls=2,
        )
    finally:
        store.close()
    assert seen == [7]  # bob's record (6) filtered out, carol's shown once


def test_follow_as_a_process_shows_a_new_record(db: Path) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "proctor.cli", "audit", "tail", "--db", str(db), "-n", "1",
         "--follow", "--interval", "0.05", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        watch = selectors.DefaultSelector()
        watch.register(follower.stdout, selectors.EVENT_READ)
        assert watch.select(timeout=60), "the newest record was not printed"
        assert json.loads(follower.stdout.readline())["seq"] == 5
        decision = _check(db, "carol", "read:orders")
        assert watch.select(timeout=60), "the new record was not printed"
        record = json.loads(follower.stdout.readline())
        assert record["decision_id"] == decision["decision_id"]
    finally:
        follower.terminate()
        follower.wait(timeout=30)


def test_show_prints_a_readable_page_without_python_reprs(db: Path) -> None:
    decision_id = str(_tail(db, "-n", "1")[0]["decision_id"])
    page = CliRunner().invoke(cli, ["audit", "show", decision_id, "--db", str(db)]).output
    assert decision_id in page
    assert '"sub": "bob"' in page  # nested values as JSON
    for python_repr in ("{'", "None", "True"):
        assert python_repr not in page


def test_the_database_url_variable_is_honoured(db: Path) -> None:
    env = {"PROCTOR_DATABASE_URL": str(db)}
    runner = CliRunner(env=env)
    checked = runner.invoke(cli, ["check", "--config", str(SHOP), "--user", "carol", "--json",
                                  "read:orders"])  # fmt: skip
    assert checked.exit_code == 0, checked.output
    tail = runner.invoke(cli, ["audit", "tail", "-n", "1", "--json"])
    assert json.loads(tail.output)[0]["decision_id"] == json.loads(checked.output)["decision_id"]
    explained = runner.invoke(cli, ["explain", json.loads(checked.output)["decision_id"]])
    assert explained.exit_code == 0, explained.output
    pending = runner.invoke(cli, ["approvals", "list", "--config", str(SHOP), "--json"])
    assert len(json.loads(pending.output)) == 1  # alice's refund of 150, held in that file
