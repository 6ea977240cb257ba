"""Client-side bounds on PostgreSQL round trips: a call past its bound fails, it never hangs."""

from __future__ import annotations

import time

import psycopg
import pytest

from proctor.storage.errors import STORAGE_TIMEOUT, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.postgres.connection import PostgresDatabase, storage_error
from proctor.storage.postgres.deadlines import DeadlineExpired, bounded, connection_options


def test_a_call_past_its_bound_fails_and_leaves_the_connection_closed(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        started = time.monotonic()
        with pytest.raises(DeadlineExpired), bounded(conn, 0.3):
            conn.execute("SELECT pg_sleep(30)")  # a server that does not answer in time
        assert time.monotonic() - started < 5
        assert conn.closed


def test_a_call_within_its_bound_keeps_the_connection(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with bounded(conn, 5.0):
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_a_pooled_transaction_past_its_bound_is_a_storage_timeout(postgres_url: str) -> None:
    database = PostgresDatabase.open(postgres_url)
    try:
        with pytest.raises(StorageError) as raised, database.transaction("sleeping") as sql:
            sql.one("SELECT pg_sleep(30)")  # past the 2 s bound of a unit of work
        assert raised.value.code == STORAGE_TIMEOUT
        with database.transaction("reading") as sql:  # the pool replaced the connection
            assert sql.one("SELECT 1") == (1,)
    finally:
        database.close()


def test_a_timeout_and_a_refusal_get_different_codes() -> None:
    assert storage_error(DeadlineExpired("no answer"), "x").code == STORAGE_TIMEOUT
    assert storage_error(psycopg.OperationalError("refused"), "x").code == STORAGE_UNAVAILABLE


def test_the_url_s_own_options_win() -> None:
    options = connection_options("postgresql://u@h/db?connect_timeout=10")
    assert "connect_timeout" not in options
    assert options["tcp_user_timeout"] == 4000
    assert options["keepalives"] == 1
