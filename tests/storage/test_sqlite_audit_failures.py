"""Failing closed, with real failures (no mocks): open errors, and writes that cannot land.

When a batch cannot be written, its records go to the spill file (or stderr),
the store turns unhealthy and later appends raise ``storage_unavailable``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from proctor.storage.errors import (
    STORAGE_CORRUPT,
    STORAGE_LOCKED,
    STORAGE_TIMEOUT,
    STORAGE_UNAVAILABLE,
    StorageError,
)
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from proctor.storage.sqlite.schema import SCHEMA_VERSION
from tests.audit.factories import make_event


def spilled_ids(path: Path) -> list[str]:
    lines = Path(f"{path}.spill.jsonl").read_text().splitlines()
    return [json.loads(line)["record"]["decision_id"] for line in lines]


# -- opening ---------------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are not the pages you are looking for\n" * 200)
    with pytest.raises(StorageError) as caught:
        SqliteAuditStore(path)
    assert caught.value.code == STORAGE_CORRUPT
    assert str(path) in caught.value.message


def test_a_damaged_database_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        for number in range(1, 301):
            store.append(make_event(number))
    with path.open("r+b") as handle:  # scribble over pages in the middle of the file
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff" * 8192)
    with pytest.raises(StorageError) as caught:
        SqliteAuditStore(path)
    assert caught.value.code == STORAGE_CORRUPT
    assert str(path) in caught.value.message


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(StorageError) as caught:
        SqliteAuditStore(path)
    assert caught.value.code == STORAGE_CORRUPT
    assert "another application" in caught.value.message


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    SqliteAuditStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError) as caught:
        SqliteAuditStore(path)
    assert caught.value.code == STORAGE_UNAVAILABLE
    assert caught.value.hint == "upgrade proctor"


def test_a_database_locked_past_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError) as caught:
            SqliteAuditStore(path, busy_timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert caught.value.code == STORAGE_LOCKED


@pytest.mark.parametrize("where", ["missing-dir/audit.db", "."])
def test_a_path_that_cannot_hold_a_database(tmp_path: Path, where: str) -> None:
    with pytest.raises(StorageError) as caught:
        SqliteAuditStore(tmp_path / where)
    assert caught.value.code == STORAGE_UNAVAILABLE


# -- writing -----------------------------------------------------------------------


def test_table_dropped_under_the_store(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path, flush_interval=60) as store:
        store.append(make_event(1), wait=True)
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE audit")
        store.append(make_event(2))  # queued before the failure shows
        with pytest.raises(StorageError) as caught:
            store.append(make_event(3), wait=True)
        assert caught.value.code == STORAGE_UNAVAILABLE
        assert "no such table" in caught.value.message
        assert not store.healthy
        assert store.failure is not None
        with pytest.raises(StorageError) as refused:
            store.append(make_event(4))
        assert refused.value.code == STORAGE_UNAVAILABLE
        with pytest.raises(StorageError):
            store.flush()
    # the queued record, the one waited for, and the one refused at the door
    assert spilled_ids(path) == ["dec-000002", "dec-000003", "dec-000004"]


def test_directory_removed_under_the_store(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    store = SqliteAuditStore(folder / "audit.db")
    store.append(make_event(1), wait=True)
    shutil.rmtree(folder)
    with pytest.raises(StorageError) as caught:
        store.append(make_event(2), wait=True)
    assert caught.value.code == STORAGE_UNAVAILABLE
    assert "removed or replaced" in caught.value.message
    store.close()
    # The spill file's directory is gone too: the record goes to stderr.
    err = capfd.readouterr().err
    assert "dec-000002" in err
    assert "cannot write the audit spill file" in err


def test_database_locked_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path, busy_timeout=0.05) as store:
        store.append(make_event(1), wait=True)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageError) as caught:
                store.append(make_event(2), wait=True)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert caught.value.code == STORAGE_LOCKED
        assert not store.healthy
    assert spilled_ids(path) == ["dec-000002"]


def test_close_after_a_failure_spills_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    store = SqliteAuditStore(path, flush_interval=60)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE audit")
    for number in range(1, 6):
        store.append(make_event(number))
    store.close()  # does not raise: the failure is on the store, the records in the spill
    assert store.failure is not None
    assert spilled_ids(path) == [f"dec-{number:06d}" for number in range(1, 6)]


def test_flush_gives_up_after_its_timeout_and_the_records_still_land(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path, busy_timeout=30) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the writer now waits for the lock
        try:
            store.append(make_event(1))
            with pytest.raises(StorageError) as caught:
                store.flush(timeout=0.05)
            assert caught.value.code == STORAGE_TIMEOUT
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        store.flush()
        assert store.healthy
        assert store.count() == 1
