"""Tampering with a real SQLite audit file, as someone with write access to it would.

Each edit goes straight through sqlite3, behind the store's back; verify()
must name the first bad record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.audit.chain import chain_record, indexed_columns
from proctor.audit.merkle import leaf_hash
from proctor.storage.errors import STORAGE_CORRUPT, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.sql.audit_log import INSERT_ROW
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event

RECORDS = 10


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    with SqliteAuditStore(path) as store:
        for number in range(1, RECORDS + 1):
            store.append(make_event(number))
    return path


@pytest.fixture
def store(path: Path) -> Iterator[SqliteAuditStore]:
    with SqliteAuditStore(path) as opened:
        yield opened


def tamper(path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())


def forged_row(conn: sqlite3.Connection, seq: int, number: int) -> tuple[object, ...]:
    """A well-formed record at ``seq`` of shard 1 chained onto the row before it (hash and all)."""
    (prev_hash,) = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()
    payload = make_event(number, effect="allow", action="delete:everything").to_payload()
    chained = chain_record(payload, seq, prev_hash, 1)
    body = chained.body.decode()
    return (1, seq, *indexed_columns(payload), chained.hash, body, leaf_hash(chained.body))


# A row's place in the file (seq) and in its shard (position) move together here.
def move(conn: sqlite3.Connection, where: str, to: str) -> None:
    conn.execute(
        f"UPDATE audit SET seq = {to}, position = {to.replace('seq', 'position')} WHERE {where}"
    )


def test_untouched_file_verifies(store: SqliteAuditStore) -> None:
    report = store.verify()
    assert report.ok
    assert report.checked == RECORDS


def test_edited_body_field(path: Path, store: SqliteAuditStore) -> None:
    tamper(
        path,
        """UPDATE audit SET body = replace(body, '"effect":"allow"', '"effect":"deny"')
           WHERE seq = 7""",
    )
    report = store.verify()
    assert (report.ok, report.first_bad_seq) == (False, 7)
    assert report.problem == "record 7 was edited: its hash does not match its content"


def test_edited_indexed_column(path: Path, store: SqliteAuditStore) -> None:
    tamper(path, "UPDATE audit SET effect = 'deny' WHERE seq = 3")
    report = store.verify()
    assert report.first_bad_seq == 3
    assert report.problem == "column `effect` of record 3 disagrees with its content"


def test_deleted_middle_row(path: Path, store: SqliteAuditStore) -> None:
    tamper(path, "DELETE FROM audit WHERE seq = 5")
    report = store.verify()
    assert report.first_bad_seq == 5
    assert report.problem == "record 5 is missing (gap between 4 and 6)"


def test_deleted_first_row(path: Path, store: SqliteAuditStore) -> None:
    tamper(path, "DELETE FROM audit WHERE seq = 1")
    report = store.verify()
    assert report.first_bad_seq == 1
    assert report.problem == "record 1 is missing (the chain starts at 2)"


def test_deleted_last_row(path: Path, store: SqliteAuditStore) -> None:
    tamper(path, f"DELETE FROM audit WHERE seq = {RECORDS}")
    report = store.verify()
    assert report.first_bad_seq == RECORDS
    assert report.problem == (
        f"the chain ends at {RECORDS - 1} but the head says {RECORDS}: "
        "records were removed from the end"
    )


def test_deleted_last_row_and_head_moved_back_breaks_no_link(
    path: Path, store: SqliteAuditStore
) -> None:
    # The limit of an unsigned chain: rows and head rewritten together stay
    # consistent. Signed checkpoints catch this (tests/cli/test_audit_checkpoints.py).
    store.close()
    tamper(
        path,
        f"DELETE FROM audit WHERE seq = {RECORDS}",
        f"""UPDATE audit_shards SET size = {RECORDS - 1},
            hash = (SELECT hash FROM audit WHERE seq = {RECORDS - 1}),
            frontier = x'' WHERE shard = 1""",
    )
    report = SqliteAuditStore(path, read_only=True).verify()
    # Without checkpoints only the stored tree (not yet rewritten here) gives it away.
    assert report.problem == "the stored Merkle tree of shard 1 does not match its records"


def test_inserted_forged_row_in_the_middle(path: Path, store: SqliteAuditStore) -> None:
    with sqlite3.connect(path) as conn:
        # Make room at 5 (two steps, so no seq collides), then insert a forgery there.
        move(conn, "seq >= 5", "seq + 1000")
        move(conn, "seq >= 1000", "seq - 999")
        row = forged_row(conn, 5, 99)
        conn.execute(INSERT_ROW.replace("(shard,", "(seq, shard,").replace("(?,", "(5, ?,"), row)
        conn.execute(f"UPDATE audit_shards SET size = {RECORDS + 1}")
    report = store.verify()
    assert report.first_bad_seq == 6
    assert report.problem == (
        "record 6 does not follow record 5: prev_hash mismatch (inserted or reordered)"
    )


def test_inserted_forged_row_at_the_end(path: Path, store: SqliteAuditStore) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(INSERT_ROW, forged_row(conn, RECORDS + 1, 99))
    report = store.verify()
    assert report.first_bad_seq == RECORDS + 1
    assert report.problem == (
        f"the chain goes on past the head at {RECORDS} to {RECORDS + 1}: "
        "records were added without moving the head"
    )


def test_swapped_seq_of_two_rows(path: Path, store: SqliteAuditStore) -> None:
    with sqlite3.connect(path) as conn:
        move(conn, "seq = 3", "-1")
        move(conn, "seq = 4", "3")
        move(conn, "seq = -1", "4")
    report = store.verify()
    assert report.first_bad_seq == 3
    assert report.problem == (
        "record 3 does not follow record 2: prev_hash mismatch (inserted or reordered)"
    )


def test_removed_head_row(path: Path, store: SqliteAuditStore) -> None:
    tamper(path, "DELETE FROM audit_shards")
    report = store.verify()
    assert not report.ok
    assert report.problem == "shard 1 has records but no head: the trail was changed"


def test_the_writer_stops_when_the_head_and_the_rows_disagree(
    path: Path, store: SqliteAuditStore
) -> None:
    # Chaining on after a removed tail would hide the removal for good.
    tamper(path, f"DELETE FROM audit WHERE seq = {RECORDS}")
    with pytest.raises(StorageError) as caught:
        store.append(make_event(500), wait=True)
    assert caught.value.code == STORAGE_CORRUPT
    assert not store.healthy
    with pytest.raises(StorageError) as refused:
        store.append(make_event(501))
    assert refused.value.code == STORAGE_UNAVAILABLE
    assert "dec-000500" in Path(f"{path}.spill.jsonl").read_text()
