"""Opening one new SQLite file from many connections at once (workers, replicas and
SDK processes starting together): none of them fails on the switch to WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from proctor.storage.sqlite.connection import connect, switch_to_wal
from tests.together import run_together

OPENERS = 8
ROUNDS = 200  # a bare switch fails in about 1 round in 100 on this machine


def _open_together(path: Path) -> list[Exception]:
    def open_and_switch() -> object:
        conn = connect(str(path), busy_timeout=5.0)
        try:
            return switch_to_wal(conn)
        finally:
            conn.close()

    modes = run_together(OPENERS, open_and_switch)
    assert all(isinstance(mode, Exception) or str(mode).lower() == "wal" for mode in modes)
    return [mode for mode in modes if isinstance(mode, Exception)]


def test_many_connections_switch_one_new_file_to_wal_together(tmp_path: Path) -> None:
    errors = [error for n in range(ROUNDS) for error in _open_together(tmp_path / f"{n}.db")]
    assert errors == []


def test_a_lock_held_past_the_busy_timeout_still_fails(tmp_path: Path) -> None:
    path = str(tmp_path / "held.db")
    holder = connect(path, busy_timeout=5.0)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    waiter = connect(path, busy_timeout=0.05)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            switch_to_wal(waiter)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        waiter.close()
