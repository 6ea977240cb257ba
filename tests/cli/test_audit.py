"""`proctor audit verify|tail|show` on a real SQLite file, tampered with directly."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from proctor.cli.main import cli

SEED = Path(__file__).parents[2] / "examples" / "customer_service" / "policies"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    runner = CliRunner()
    for action in ("read:orders", "write:email", "delete:customer", "read:customers", "write:x"):
        result = runner.invoke(
            cli, ["check", "--policy", str(SEED), "--tier", "verified", "--db", str(path), action]
        )
        assert result.exit_code == 0, result.output
    return path


def _verify(db: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db), "--json"])
    return result.exit_code, json.loads(result.output)


def test_an_intact_trail_verifies(db: Path) -> None:
    code, body = _verify(db)
    assert (code, body["ok"], body["checked"]) == (0, True, 5)


def test_an_edited_row_is_caught(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        body = conn.execute("SELECT body FROM audit WHERE seq = 3").fetchone()[0]
        edited = body.replace('"effect":"deny"', '"effect":"allow"')
        assert edited != body
        conn.execute("UPDATE audit SET body = ?, effect = 'allow' WHERE seq = 3", (edited,))
    code, report = _verify(db)
    assert code == 1
    assert report["first_bad_seq"] == 3
    assert "edited" in str(report["problem"])


def test_a_deleted_row_is_caught(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 2")
    code, report = _verify(db)
    assert (code, report["first_bad_seq"]) == (1, 2)
    assert "missing" in str(report["problem"])


def test_a_deleted_last_row_is_caught(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 5")
    code, report = _verify(db)
    assert code == 1
    assert "removed from the end" in str(report["problem"])


def test_the_human_report_names_the_record(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit WHERE seq = 4")
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
    assert result.exit_code == 1
    assert "broken at record 4" in result.output


def test_tail_and_show(db: Path) -> None:
    runner = CliRunner()
    tail = runner.invoke(cli, ["audit", "tail", "-n", "2", "--db", str(db), "--json"])
    records = json.loads(tail.output)
    assert [r["action"] for r in records] == ["read:customers", "write:x"]
    shown = runner.invoke(
        cli, ["audit", "show", records[0]["decision_id"], "--db", str(db), "--json"]
    )
    assert json.loads(shown.output)["hash"] == records[0]["hash"]
    human = runner.invoke(cli, ["audit", "tail", "--db", str(db)])
    assert "delete:customer" in human.output


def test_show_of_an_unknown_id_is_a_clear_error(db: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", "show", "nope", "--db", str(db)])
    assert result.exit_code != 0


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "check", "--policy", str(SEED), "--tier", "verified",
         "--db", str(bogus), "read:x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "error[storage_corrupt]" in result.stderr
    assert result.stdout == ""  # no decision, so no allow without a record
    assert bogus.read_bytes() == b"this is not sqlite" * 100


def test_a_verify_the_database_stops_answering_ends_with_a_coded_error(postgres_url: str) -> None:
    """The database sends nothing (here: the rows are locked; a frozen server looks the same
    to the client): the verify ends after its silence bound, naming the database and it."""
    from proctor.storage import open_audit_store
    from proctor.storage.postgres.connection import database_name
    from tests.audit.factories import make_event

    store = open_audit_store(postgres_url)
    for number in range(1, 4):
        store.append(make_event(number))
    store.close()  # flushes
    verify = [sys.executable, "-m", "proctor.cli", "audit", "verify", "--db", postgres_url]
    with psycopg.connect(postgres_url) as holder:
        holder.execute("LOCK TABLE audit IN ACCESS EXCLUSIVE MODE")  # until the rollback
        started = time.monotonic()
        stuck = subprocess.run(
            [*verify, "--timeout", "1"], capture_output=True, text=True, timeout=60
        )
        took = time.monotonic() - started
        holder.rollback()
    assert stuck.returncode == 3, stuck.stderr
    assert "error[storage_timeout]" in stuck.stderr
    assert f"`{database_name(postgres_url)}`" in stuck.stderr
    assert "for 1 s" in stuck.stderr
    assert took < 30  # the bound, plus starting Python
    again = subprocess.run(verify, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "3 records, chain intact" in again.stdout


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf", "1e9", "soon"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused(db: Path, seconds: str) -> None:
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db), "--timeout", seconds])
    assert result.exit_code == 2
    assert "--timeout" in result.output


def test_a_timeout_leaves_a_sqlite_verify_as_it_was(db: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db), "--timeout", "0.5"])
    assert result.exit_code == 0, result.output
    assert "5 records, chain intact" in result.output
