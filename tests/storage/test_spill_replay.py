"""A store that fails spills every record it cannot write and replays them once it writes again.

Real SQLite: another connection holds the write lock past the store's busy
timeout (``storage_locked``), so the writer fails; releasing the lock is the
recovery, found by the writer's probe without a reopen. A replay cut short (a
``.replaying`` file whose first records are committed) resumes without
duplicates when the store opens.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from proctor.model.decision import AUDIT_UNAVAILABLE
from proctor.storage.errors import STORAGE_LOCKED, StorageError
from proctor.storage.spill import SpillFile
from proctor.storage.spill_replay import refused
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event
from tests.storage.recovery import wait_healthy


def _locked(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _records(store: SqliteAuditStore) -> list[dict[str, object]]:
    return [json.loads(row.body) for row in store.iter_rows()]


def _fail_with_a_lock(store: SqliteAuditStore, path: Path) -> sqlite3.Connection:
    holder = _locked(path)
    with pytest.raises(StorageError) as caught:
        store.append(make_event(2), wait=True)
    assert caught.value.code == STORAGE_LOCKED
    assert not store.healthy
    return holder


def test_a_locked_store_spills_then_replays_when_the_lock_goes(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path, busy_timeout=0.05) as store:
        store.append(make_event(1), wait=True)
        holder = _fail_with_a_lock(store, path)
        with pytest.raises(StorageError):  # refused at the door: spilled as the deny it was told
            store.append(make_event(3))
        assert store.spill is not None
        assert store.spill.spilled == 2
        holder.rollback()
        holder.close()
        wait_healthy(store)
        store.append(make_event(4), wait=True)
        records = {r["decision_id"]: r for r in _records(store)}
        assert list(records) == ["dec-000001", "dec-000002", "dec-000003", "dec-000004"]
        for late in ("dec-000002", "dec-000003"):  # answered deny: recorded as that deny
            assert records[late]["effect"] == "deny"
            assert records[late]["code"] == AUDIT_UNAVAILABLE
            assert records[late]["extra"]["unrecorded"]["effect"] == "allow"  # type: ignore[index]
            assert records[late]["extra"]["replayed"]["code"] == STORAGE_LOCKED  # type: ignore[index]
        assert "replayed" not in records["dec-000004"]["extra"]  # type: ignore[operator]
        assert store.spill.replayed == 2
        assert store.verify().ok
    assert not Path(f"{path}.spill.jsonl").exists()  # claimed by the replay, then removed
    assert not Path(f"{path}.spill.jsonl.replaying").exists()


@pytest.mark.parametrize(
    ("answer_on_commit", "recorded"),
    [
        (False, ("allow", "")),  # in-process, batched: the append returned, its caller went ahead
        (True, ("deny", AUDIT_UNAVAILABLE)),  # the gateway: told deny as the commit failed
    ],
)
def test_a_record_written_late_is_replayed_as_its_caller_was_answered(
    tmp_path: Path, answer_on_commit: bool, recorded: tuple[str, str]
) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path, busy_timeout=0.05, flush_interval=60) as store:
        if answer_on_commit:
            store.answer_on_commit()
        store.append(make_event(1), wait=True)
        holder = _locked(path)
        store.append(make_event(2))  # not waited for: its commit fails later
        with pytest.raises(StorageError):
            store.flush()
        holder.rollback()
        holder.close()
        wait_healthy(store)
        store.flush()
        record = store.get("dec-000002")
        assert record is not None
        assert (record["effect"], record["code"]) == recorded


def test_a_replay_cut_short_resumes_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        for number in (1, 2):  # the replay that was killed had committed these
            store.append(make_event(number), wait=True)
    claimed = SpillFile(f"{path}.spill.jsonl.replaying")  # what it had claimed
    claimed.write([make_event(n).to_payload() for n in (1, 2, 3, 2)], code="x", reason="y")
    SpillFile(f"{path}.spill.jsonl").write([make_event(4).to_payload()], code="x", reason="y")
    with SqliteAuditStore(path) as store:
        store.flush()
        ids = [r["decision_id"] for r in _records(store)]
        assert ids == ["dec-000001", "dec-000002", "dec-000003", "dec-000004"]
        assert store.verify().ok
    assert not Path(f"{path}.spill.jsonl.replaying").exists()


def test_lines_no_replay_can_chain_are_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    spill = SpillFile(f"{path}.spill.jsonl")
    spill.write([make_event(1).to_payload()], code="duplicate_record", reason="stored already")
    spill.write([{"decision_id": "no-kind"}], code="storage_unavailable", reason="r")
    spill.write([make_event(2, decision_id=["a", "list"]).to_payload()], code="x", reason="r")
    spill.write([make_event(3).to_payload()], code="storage_unavailable", reason="disk full")
    with SqliteAuditStore(path) as store:
        store.flush()
        assert [r["decision_id"] for r in _records(store)] == ["dec-000003"]
    kept = Path(f"{path}.spill-kept.jsonl").read_text().splitlines()
    assert len(kept) == 3
    assert all(json.loads(line) for line in kept)


def test_a_forged_spill_line_neither_rewrites_a_record_nor_sets_its_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        store.append(make_event(1), wait=True)
    spill = SpillFile(f"{path}.spill.jsonl")
    spill.write([make_event(1, effect="deny").to_payload()], code="x", reason="rewrite it")
    chained = {**make_event(2).to_payload(), "seq": 1, "hash": "0" * 64}
    spill.write([chained], code="x", reason="set the chain")
    with SqliteAuditStore(path) as store:
        store.flush()
        records = _records(store)
        assert [r["decision_id"] for r in records] == ["dec-000001", "dec-000002"]
        assert records[0]["effect"] == "allow"  # the first record stands
        assert records[1]["seq"] == 2  # chained where it belongs: its forged fields dropped
        assert store.verify().ok


def test_postgres_spills_while_its_table_is_gone_and_replays_when_it_is_back(
    postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    from proctor.storage.postgres.audit_store import PostgresAuditStore

    spill = tmp_path / "pg.spill.jsonl"
    store = PostgresAuditStore(postgres_url, spill=str(spill))
    try:
        store.answer_on_commit()
        store.append(make_event(1), wait=True)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("ALTER TABLE audit RENAME TO audit_away")
            store.append(make_event(2))  # answered on commit: spilled as a deny
            with pytest.raises(StorageError):
                store.flush()
            with pytest.raises(StorageError):  # refused at the door, spilled too
                store.append(make_event(3))
            assert store.spill.spilled == 2
            assert len(spill.read_text().splitlines()) == 2
            admin.execute("ALTER TABLE audit_away RENAME TO audit")
        wait_healthy(store)
        store.append(make_event(4), wait=True)
        records = {r["decision_id"]: r for r in (json.loads(row.body) for row in store.iter_rows())}
        assert list(records) == ["dec-000001", "dec-000002", "dec-000003", "dec-000004"]
        assert {records[i]["code"] for i in ("dec-000002", "dec-000003")} == {AUDIT_UNAVAILABLE}
        assert store.spill.replayed == 2
        assert store.verify().ok
    finally:
        store.close()
    assert not spill.exists()


CHILD = """
import sys, time
from proctor.storage import open_audit_store

store = open_audit_store(sys.argv[1], spill=sys.argv[2], batch_size=256)
time.sleep(120)  # killed while its writer replays the spill
"""


def _chained(where: str) -> int:
    """Records in the chain, read by another connection (0 before the table exists)."""
    if where.startswith("postgresql://"):
        import psycopg

        try:
            with psycopg.connect(where) as conn:
                row = conn.execute("SELECT count(*) FROM audit").fetchone()
        except psycopg.Error:
            return 0
        return int(row[0]) if row is not None else 0
    try:
        with sqlite3.connect(f"{Path(where).as_uri()}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
    except sqlite3.Error:
        return 0


def _open(where: str, spill: Path) -> Any:
    if where.startswith("postgresql://"):
        from proctor.storage.postgres.audit_store import PostgresAuditStore

        return PostgresAuditStore(where, spill=str(spill), batch_size=256)
    return SqliteAuditStore(where, spill=str(spill), batch_size=256)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_replay_killed_midway_resumes_on_the_next_open_with_nothing_lost_or_twice(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    where = (
        request.getfixturevalue("postgres_url")
        if backend == "postgres"
        else str(tmp_path / "audit.db")
    )
    spill = tmp_path / "audit.spill.jsonl"
    total = 10_000
    SpillFile(str(spill)).write(
        [make_event(n).to_payload() for n in range(1, total + 1)],
        code="storage_unavailable",
        reason="the disk was full",
    )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, where, str(spill)],
        cwd=Path(__file__).parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not 0 < _chained(where) < total:  # polling another process: nothing to inject
            assert time.monotonic() < deadline, "the replay never started"
            assert child.poll() is None
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    cut_at = _chained(where)
    assert 0 < cut_at < total, "the replay was not cut midway"
    assert Path(f"{spill}.replaying").exists()
    store = _open(where, spill)  # the restart
    try:
        store.flush()
        ids = [json.loads(row.body)["decision_id"] for row in store.iter_rows()]
        assert store.verify().ok
        replayed = store.spill.replayed
    finally:
        store.close()
    assert len(ids) == len(set(ids)) == total
    assert ids == [f"dec-{n:06d}" for n in range(1, total + 1)]  # in the order spilled
    assert replayed == total - cut_at
    assert not Path(f"{spill}.replaying").exists()
    print(
        f"\n{backend}: replay killed after {cut_at} of {total}; resumed: {replayed} "
        f"replayed, 0 twice"
    )


def test_a_refused_output_review_is_spilled_as_withheld_and_other_kinds_as_they_are() -> None:
    review = {**make_event(1, kind="output").to_payload(), "effect": "allow"}
    withheld = refused(review, "disk full")
    assert (withheld["effect"], withheld["code"]) == ("deny", AUDIT_UNAVAILABLE)
    assert withheld["reason"].startswith("withheld: ")
    assert withheld["extra"]["unrecorded"]["effect"] == "allow"
    change = make_event(2, kind="tier_change").to_payload()
    assert refused(change, "disk full") == change  # the change stands even unrecorded
