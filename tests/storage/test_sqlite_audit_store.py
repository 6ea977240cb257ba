"""What only the SQLite audit store does: the file, its schema, durability, shutdown, processes."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from proctor.audit.chain import GENESIS, chain_record, indexed_columns, text_columns
from proctor.audit.merkle import leaf_hash
from proctor.storage import open_audit_store
from proctor.storage.errors import DUPLICATE_RECORD, StorageError
from proctor.storage.memory import MemoryAuditStore
from proctor.storage.sql.audit_log import AUDIT_COLUMNS
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from proctor.storage.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.audit.factories import make_event


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_new_file_gets_wal_the_schema_and_its_version(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    SqliteAuditStore(path).close()
    assert pragma(path, "journal_mode") == "wal"
    assert pragma(path, "user_version") == SCHEMA_VERSION
    assert pragma(path, "application_id") == APPLICATION_ID
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(audit)")]
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(audit)")}
    assert columns == [
        "seq", "decision_id", "ts", "kind", "user_sub", "agent_id", "action", "effect",
        "run_id", "hash", "body", "shard", "position", "leaf",
    ]  # fmt: skip
    for column in ("ts", "user_sub", "agent_id", "action", "run_id"):
        assert f"audit_{column}" in indexes
    assert "audit_shard_position" in indexes


def test_body_column_is_the_canonical_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        store.append(make_event(1), wait=True)
        record = store.get(make_event(1).decision_id)
    with sqlite3.connect(path) as conn:
        body, effect, user_sub = conn.execute("SELECT body, effect, user_sub FROM audit").fetchone()
    assert record is not None
    assert (effect, user_sub) == ("allow", "alice@example.com")
    assert body.startswith('{"action":"write:refund","agent":')
    assert hashlib.sha256(body.encode()).hexdigest() == record["hash"]
    assert '"hash"' not in body


def test_stored_rows_are_byte_for_byte_what_the_payloads_chain_into(tmp_path: Path) -> None:
    """The writer chains events from their own fields, several hundred rows to an INSERT:
    every column of every row is what ``chain_record`` of the event's payload gives."""
    path = tmp_path / "audit.db"
    odd = [
        make_event(1, latency_us=40.0, args={"amount": 10.0, "items": [1.0, -0.0]}),
        make_event(5, args={"tiny": 1e-7, "big": 1e16}),  # the reference encoder prints these
        make_event(2, user={"sub": "nul\x00sub", "claims": {}}, run_id="run\x00"),
        make_event(3, agent={"id": "\U0001f600", "tags": ["\uffff", 2.5]}, rule_ids=["r"]),
        make_event(4, diagnostics=({"rule": "r", "error": "x"},), delegation=({"sub": "a"},)),
    ]
    events = [*odd, *(make_event(number) for number in range(6, 1300))]
    with SqliteAuditStore(path) as store:
        for event in events:
            store.append(event)
        store.flush()
        shard = store.shard
    expected = []
    head = GENESIS
    for position, event in enumerate(events, 1):
        payload = event.to_payload()
        chained = chain_record(payload, position, head.hash, shard)
        columns = indexed_columns(payload)
        if b"\\u0000" in chained.body:
            columns = text_columns(columns)
        leaf = leaf_hash(chained.body)
        expected.append((shard, position, *columns, chained.hash, chained.body.decode(), leaf))
        head = chained.head
    with sqlite3.connect(path) as conn:
        stored = conn.execute(
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit ORDER BY seq"
        ).fetchall()
    assert stored == expected


def test_appends_from_a_thread_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    store = SqliteAuditStore(path, batch_size=64)
    total = 5_000

    def work() -> None:
        for number in range(1, total + 1):
            store.append(make_event(number))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    store.close()
    with SqliteAuditStore(path) as reopened:
        assert reopened.count() == total
        report = reopened.verify()
        assert report.ok
        assert report.checked == total


def test_the_chain_continues_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        store.append(make_event(1), wait=True)
        first_head = store.head()
    with SqliteAuditStore(path) as store:
        store.append(make_event(2), wait=True)
        second = store.get(make_event(2).decision_id)
        assert second is not None
        assert (second["seq"], second["prev_hash"]) == (2, first_head.hash)
        assert store.verify().ok


def test_two_stores_on_one_file_build_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    first, second = SqliteAuditStore(path, batch_size=7), SqliteAuditStore(path, batch_size=5)

    def work(store: SqliteAuditStore, offset: int) -> None:
        for number in range(offset, offset + 300):
            store.append(make_event(number), wait=number % 50 == 0)

    workers = [
        threading.Thread(target=work, args=(first, 1)),
        threading.Thread(target=work, args=(second, 1001)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    first.close()
    second.close()
    with SqliteAuditStore(path) as store:
        assert store.count() == 600
        assert store.verify().ok


def test_another_process_writes_into_the_same_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        store.append(make_event(1), wait=True)
        result = run_python(
            f"""
            from proctor.storage.sqlite.audit_store import SqliteAuditStore
            from tests.audit.factories import make_event
            with SqliteAuditStore({str(path)!r}) as other:
                for number in range(1000, 1200):
                    other.append(make_event(number))
            """
        )
        assert result.returncode == 0, result.stderr
        for number in range(2, 50):
            store.append(make_event(number))
        store.flush()
        assert store.count() == 249
        assert store.verify().ok


def test_exiting_without_close_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    result = run_python(
        f"""
        from proctor.storage.sqlite.audit_store import SqliteAuditStore
        from tests.audit.factories import make_event
        store = SqliteAuditStore({str(path)!r}, flush_interval=60)
        for number in range(1, 1001):
            store.append(make_event(number))
        """
    )
    assert result.returncode == 0, result.stderr
    with SqliteAuditStore(path) as store:
        assert store.count() == 1000
        assert store.verify().ok


def test_sync_durability_commits_before_append_returns(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path, durability="sync", flush_interval=60) as store:
        store.append(make_event(1))
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 1


def test_sync_durability_shares_commits_between_threads(tmp_path: Path) -> None:
    with SqliteAuditStore(tmp_path / "audit.db", durability="sync") as store:

        def work(offset: int) -> None:
            for number in range(offset, offset + 50):
                store.append(make_event(number))

        workers = [threading.Thread(target=work, args=(1 + t * 50,)) for t in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert store.count() == 400
        assert store.verify().ok


def test_flush_waits_for_queued_records(tmp_path: Path) -> None:
    with SqliteAuditStore(tmp_path / "audit.db", flush_interval=60) as store:
        for number in range(1, 101):
            store.append(make_event(number))
        store.flush(timeout=30)
        assert store.count() == 100


def test_duplicate_without_wait_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        store.append(make_event(1))
        store.append(make_event(2))
        store.append(make_event(1, effect="deny"))
        store.append(make_event(3))
        store.flush()
        assert store.healthy
        assert store.count() == 3
        assert store.verify().ok
    assert not Path(f"{path}.spill.jsonl").exists()  # nothing a replay could chain
    spilled = Path(f"{path}.spill-kept.jsonl").read_text().splitlines()
    assert len(spilled) == 1
    assert f'"code": "{DUPLICATE_RECORD}"' in spilled[0]
    assert '"effect": "deny"' in spilled[0]


def test_reads_see_records_committed_by_another_store(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as reader, SqliteAuditStore(path) as writer:
        writer.append(make_event(1), wait=True)
        assert reader.get(make_event(1).decision_id) is not None
        assert reader.head() == writer.head()


@pytest.mark.parametrize("where", [None, ":memory:", "memory", "sqlite:///:memory:"])
def test_open_audit_store_memory(where: str | None) -> None:
    store = open_audit_store(where)
    assert isinstance(store, MemoryAuditStore)


def test_open_audit_store_paths_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for where, expected in [
        ("plain.db", tmp_path / "plain.db"),
        ("sqlite:///relative.db", tmp_path / "relative.db"),
        (f"sqlite:///{tmp_path}/absolute.db", tmp_path / "absolute.db"),
    ]:
        store = open_audit_store(where, durability="sync")
        assert isinstance(store, SqliteAuditStore)
        assert (store.path, store.durability) == (str(expected), "sync")
        store.close()


def test_open_audit_store_refuses_unknown_schemes() -> None:
    with pytest.raises(StorageError, match="mysql"):
        open_audit_store("mysql://db/proctor")


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        SqliteAuditStore(tmp_path / "a.db", durability="eventually")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        SqliteAuditStore(tmp_path / "a.db", batch_size=0)


def test_a_full_queue_makes_appends_wait_for_their_commit(tmp_path: Path) -> None:
    # With the interval out of reach, only the queue limit can get records written.
    with SqliteAuditStore(tmp_path / "audit.db", flush_interval=60, max_queue=10) as store:
        for number in range(1, 12):
            store.append(make_event(number))
        assert store.count() == 11


def test_a_store_dropped_without_close_is_flushed_at_exit(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    result = run_python(
        f"""
        import gc
        from proctor.storage.sqlite.audit_store import SqliteAuditStore
        from tests.audit.factories import make_event
        store = SqliteAuditStore({str(path)!r}, flush_interval=60)
        for number in range(1, 101):
            store.append(make_event(number))
        del store
        gc.collect()
        """
    )
    assert result.returncode == 0, result.stderr
    with SqliteAuditStore(path) as store:
        assert store.count() == 100


def test_a_read_only_open_of_an_older_file_says_so_and_changes_nothing(tmp_path: Path) -> None:
    from proctor.storage.errors import StorageError

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 1")
        conn.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY)")
    before = path.read_bytes()
    with pytest.raises(StorageError) as caught:
        SqliteAuditStore(path, read_only=True)
    assert "schema version 1" in caught.value.message
    assert path.read_bytes() == before
