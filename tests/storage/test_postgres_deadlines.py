"""Client-side bounds on PostgreSQL round trips: a call past its bound fails, it never hangs."""

from __future__ import annotations

import socket
import time
from typing import Any

import psycopg
import pytest

from proctor.storage.errors import STORAGE_TIMEOUT, STORAGE_UNAVAILABLE, StorageError
from proctor.storage.postgres.connection import PostgresDatabase, storage_error
from proctor.storage.postgres.deadlines import (
    _KEPT_DISARMED,
    DeadlineExpired,
    Progress,
    _Watchdog,
    bounded,
    connection_options,
)


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


def _rows(conn: psycopg.Connection[Any], progress: Progress, sleeps: str) -> list[int]:
    """Rows 1 to 8, each ``sleeps`` seconds after the last (an SQL expression of ``g``)."""
    with (
        bounded(conn, progress=progress),
        conn.transaction(),
        conn.cursor(name="slow") as cursor,
    ):
        cursor.itersize = 1
        cursor.execute(f"SELECT g, pg_sleep({sleeps}) FROM generate_series(1, 8) g")
        return [int(row[0]) for row in progress.through(cursor)]


def test_a_long_read_runs_past_its_bound_while_rows_keep_arriving(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        started = time.monotonic()
        assert _rows(conn, Progress(1.0), "0.3") == list(range(1, 9))
        assert time.monotonic() - started > 2  # longer than the bound, in all
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_long_read_the_server_goes_silent_in_fails_after_its_bound(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        started = time.monotonic()
        with pytest.raises(DeadlineExpired, match=r"for 0\.5 s"):  # rows 1-3 in time, then silence
            _rows(conn, Progress(0.5), "CASE WHEN g < 4 THEN 0.3 ELSE 30 END")
        assert 0.9 < time.monotonic() - started < 10
        assert conn.closed


def test_the_time_a_caller_holds_a_row_does_not_count(postgres_url: str) -> None:
    progress = Progress(0.3)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with (
            bounded(conn, progress=progress),
            conn.transaction(),
            conn.cursor(name="rows") as cursor,
        ):
            cursor.itersize = 1
            cursor.execute("SELECT g FROM generate_series(1, 3) g")
            for _ in progress.through(cursor):
                time.sleep(0.5)  # the caller's own work on the row, longer than the bound
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_sooner_deadline_armed_after_later_ones_still_shuts_its_socket() -> None:
    """The watchdog thread is woken only by a deadline sooner than the one it waits for."""
    watchdog = _Watchdog()
    later, sooner = socket.socketpair(), socket.socketpair()
    try:
        watchdog.arm(later[0].fileno(), 60.0)
        watchdog.arm(sooner[0].fileno(), 0.05)
        sooner[0].settimeout(5.0)
        assert sooner[0].recv(1) == b""  # shut down by the watchdog, not by the peer
    finally:
        for pair in (later, sooner):
            for end in pair:
                end.close()


def test_disarmed_tickets_do_not_pile_up_in_the_watchdog() -> None:
    watchdog = _Watchdog()
    left, right = socket.socketpair()
    try:
        for _ in range(20_000):
            watchdog.disarm(watchdog.arm(left.fileno(), 60.0))
        assert len(watchdog._heap) <= _KEPT_DISARMED + 1
    finally:
        left.close()
        right.close()
