"""The dialect renders each shared query for its driver; statements run on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from proctor.storage.sql.dialect import POSTGRES, SQLITE, Statements
from proctor.storage.sqlite.state_db import StateDatabase


def test_sqlite_takes_the_query_as_written() -> None:
    query = "SELECT body FROM approvals WHERE approval_id = ?"
    assert SQLITE.render(query) == query


def test_postgres_gets_its_placeholders_and_a_literal_percent_kept() -> None:
    rendered = POSTGRES.render("SELECT 1 FROM audit WHERE action LIKE 'pay%' AND seq > ?")
    assert rendered == "SELECT 1 FROM audit WHERE action LIKE 'pay%%' AND seq > %s"


def test_a_list_of_values_is_one_array_for_postgres_and_marks_for_sqlite() -> None:
    assert POSTGRES.among("value", ["a", "b"]) == ("value = ANY(?)", (["a", "b"],))
    assert SQLITE.among("value", ["a", "b"]) == ("value IN (?, ?)", ("a", "b"))


def test_only_postgres_locks_rows_and_skips_rows_others_hold() -> None:
    assert SQLITE.row_lock == ""
    assert SQLITE.key_lock is None
    assert POSTGRES.row_lock == " FOR UPDATE"
    pruning = POSTGRES.delete_some("t", "a, b", "until < ?")
    assert pruning.endswith("LIMIT 1000 FOR UPDATE SKIP LOCKED)")
    assert SQLITE.delete_some("t", "a, b", "until < ?") == "DELETE FROM t WHERE until < ?"


def test_statements_run_on_a_real_sqlite_state_database(tmp_path: Path) -> None:
    database = StateDatabase(str(tmp_path / "proctor.db"))
    try:
        with database.transaction("writing") as sql:
            sql.many(
                "INSERT INTO runs (run_id, started_at, agent) VALUES (?, ?, ?)",
                [
                    ("r1", "2026-01-01T00:00:00+00:00", "a"),
                    ("r2", "2026-01-01T00:00:00+00:00", "b"),
                ],
            )
            assert sql.run("UPDATE runs SET ended_at = ? WHERE agent = ?", ("x", "a")) == 1
        with database.reading("reading") as sql:
            among, params = sql.dialect.among("run_id", ["r1", "r2", "r3"])
            rows = sql.all(f"SELECT run_id FROM runs WHERE {among} ORDER BY run_id", params)
            assert rows == [("r1",), ("r2",)]
            assert sql.one("SELECT run_id FROM runs WHERE run_id = ?", ("zz",)) is None
    finally:
        database.close()


ROWS = [
    (1, "plain", b"\x00\x01bytes", None),
    (2, "tab\tnew line\nback\\slash, quote' and ü", b"", "x"),
]


def test_insert_all_writes_the_same_rows_by_insert_on_sqlite_and_by_copy_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    """COPY's text format escapes tabs, newlines and backslashes: the rows read back as given."""
    database = StateDatabase(str(tmp_path / "proctor.db"))
    try:
        with database.transaction("writing") as sql:
            sql.run("CREATE TABLE t (n INTEGER, text TEXT, blob BLOB, maybe TEXT)")
            sql.insert_all("t", ("n", "text", "blob", "maybe"), ROWS)
        with database.reading("reading") as sql:
            assert sql.all("SELECT n, text, blob, maybe FROM t ORDER BY n") == ROWS
    finally:
        database.close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TEMPORARY TABLE t (n BIGINT, text TEXT, blob BYTEA, maybe TEXT)")
        sql = Statements(conn, POSTGRES)
        sql.insert_all("t", ("n", "text", "blob", "maybe"), ROWS)
        assert sql.all("SELECT n, text, blob, maybe FROM t ORDER BY n") == ROWS


@pytest.mark.parametrize("parameters", [32766, 999, 9, 4])
def test_insert_all_on_sqlite_takes_any_number_of_rows_within_the_parameter_limit(
    parameters: int,
) -> None:
    """Rows go in by INSERTs of many rows (a power of two each, within the connection's
    limit on parameters): all of them, in order, whatever their number."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, parameters)
        conn.execute("CREATE TABLE t (n INTEGER, text TEXT, blob BLOB, maybe TEXT)")
        rows = [(n, f"row {n}", bytes([n % 256]), None if n % 3 else "x") for n in range(1300)]
        sql = Statements(conn, SQLITE)
        for part in (rows[:1], rows[1:513], rows[513:]):  # one, a full batch, 787
            sql.insert_all("t", ("n", "text", "blob", "maybe"), part)
        assert sql.all("SELECT n, text, blob, maybe FROM t ORDER BY rowid") == rows
    finally:
        conn.close()


def test_insert_all_on_sqlite_fails_whole_on_a_duplicate_key() -> None:
    """A row refused (a duplicate id) fails its statement: the caller rolls back and retries."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute("CREATE TABLE t (n INTEGER UNIQUE)")
        sql = Statements(conn, SQLITE)
        conn.execute("BEGIN")
        with pytest.raises(sqlite3.IntegrityError):
            sql.insert_all("t", ("n",), [(n,) for n in (*range(600), 5)])
        conn.execute("ROLLBACK")
        assert sql.all("SELECT count(*) FROM t") == [(0,)]
    finally:
        conn.close()
