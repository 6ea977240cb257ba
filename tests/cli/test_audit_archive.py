"""`proctor audit archive`: old records move to a self-verifying archive and leave the live
store, which stays verifiable from the archive's cut; `verify-archive` checks it offline."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_audit_checkpoints import Log, run

BEFORE = "2026-05-09T07:35:07Z"  # records 1 to 6 are older


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Log:
    monkeypatch.chdir(tmp_path)
    return Log(tmp_path)


def archive(log: Log, directory: Path, before: str = BEFORE) -> dict[str, object]:
    code, out = run(
        "audit", "archive", "--db", str(log.db), "--before", before, "--output", str(directory),
        "--key", str(log.key), "--json",
    )  # fmt: skip
    assert code == 0, out
    return dict(json.loads(out))


def test_archived_records_leave_and_the_rest_still_verifies(log: Log, tmp_path: Path) -> None:
    directory = tmp_path / "archive-1"
    assert archive(log, directory) == {"archived": {"1": 6}}
    with sqlite3.connect(log.db) as conn:
        kept = [row[0] for row in conn.execute("SELECT position FROM audit ORDER BY position")]
    assert kept == list(range(7, 13))
    code, report = log.verify_witnessed()
    assert (code, report["ok"], report["checked"]) == (0, True, 6)
    assert run("audit", "verify-archive", str(directory), "--key", str(log.key))[0] == 0
    # a kept record is still proven, and the writer appends after the cut
    proof = tmp_path / "proof.json"
    assert run("audit", "prove", "dec-000009", "--db", str(log.db), "--output", str(proof))[0] == 0
    assert run("audit", "verify-proof", str(proof), "--key", str(log.key))[0] == 0
    log.append(range(13, 16))
    log.checkpoint()
    assert log.verify()[0] == 0


def test_a_second_archive_continues_from_the_first(log: Log, tmp_path: Path) -> None:
    archive(log, tmp_path / "a1")
    assert archive(log, tmp_path / "a2", "2026-05-09T07:35:10Z") == {"archived": {"1": 3}}
    second = json.loads((tmp_path / "a2" / "manifest.json").read_text())
    first = json.loads((tmp_path / "a1" / "manifest.json").read_text())
    assert second["shards"]["1"]["from_frontier"] == first["shards"]["1"]["to_frontier"]
    assert run("audit", "verify-archive", str(tmp_path / "a2"), "--key", str(log.key))[0] == 0
    assert log.verify_witnessed()[0] == 0


def test_an_edited_archive_fails_offline(log: Log, tmp_path: Path) -> None:
    directory = tmp_path / "archive"
    archive(log, directory)
    records = directory / "records.jsonl"
    lines = records.read_text().splitlines()
    edited = json.loads(lines[2])
    edited["body"] = edited["body"].replace('"effect":"deny"', '"effect":"allow"')
    lines[2] = json.dumps(edited)
    records.write_text("\n".join(lines) + "\n")
    code, out = run("audit", "verify-archive", str(directory), "--key", str(log.key), "--json")
    assert code == 1
    assert json.loads(out)["problem"] == "record 3 of shard 1 was edited"


def test_a_consistently_rewritten_archive_fails_offline(log: Log, tmp_path: Path) -> None:
    from tests.cli.test_audit_checkpoints import deny_to_allow, rewrite

    rewrite(log.db, deny_to_allow)  # the live log rewritten before archiving: refused
    code, out = run(
        "audit", "archive", "--db", str(log.db), "--before", BEFORE, "--output",
        str(tmp_path / "a"), "--key", str(log.key),
    )  # fmt: skip
    assert code != 0
    assert "nothing is archived from a log that fails verification" in out


def test_only_checkpointed_records_are_archived(log: Log, tmp_path: Path) -> None:
    log.append(range(13, 20))  # not yet covered by a checkpoint
    summary = archive(log, tmp_path / "a", "2027-01-01T00:00:00Z")
    assert summary == {"archived": {"1": 12}}
    code, report = log.verify()
    assert (code, report["checked"]) == (0, 7)
