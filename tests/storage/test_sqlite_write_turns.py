"""Audit writers of one SQLite file take turns through its lock file; a turn never stops a write."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from proctor.storage.sqlite.audit_store import SqliteAuditStore
from proctor.storage.sqlite.write_turns import WriteTurns, lock_path
from tests.audit.factories import make_event

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


class Ticking:
    """A clock that a sleep moves on, and what each sleep should do first."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0
        self.on_sleep: list[object] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += 1
        self.now += seconds
        if self.on_sleep:
            action = self.on_sleep.pop(0)
            assert callable(action)
            action()


def test_a_writer_waits_for_the_turn_and_takes_it_once_free(tmp_path: Path) -> None:
    database = str(tmp_path / "proctor.db")
    first = WriteTurns(database, timeout=5.0)
    time = Ticking()
    second = WriteTurns(database, timeout=5.0, clock=time.clock, sleep=time.sleep)
    holding = first.turn()
    assert holding.__enter__()
    # the first gives its turn up during the second's third wait
    time.on_sleep = [lambda: None, lambda: None, lambda: holding.__exit__(None, None, None)]
    with second.turn() as taken:
        assert taken
    assert time.slept == 3
    first.close()
    second.close()


def test_past_its_timeout_a_writer_goes_on_without_the_turn(tmp_path: Path) -> None:
    database = str(tmp_path / "proctor.db")
    holder = WriteTurns(database, timeout=5.0)
    time = Ticking()
    waiter = WriteTurns(database, timeout=0.01, clock=time.clock, sleep=time.sleep)
    with holder.turn(), waiter.turn() as taken:
        assert not taken
    assert 0.01 <= time.now < 0.011  # tried for its timeout, not longer
    with waiter.turn() as taken:  # free again: taken at once
        assert taken
    holder.close()
    waiter.close()


def test_turns_are_exclusive_across_processes(tmp_path: Path) -> None:
    database = str(tmp_path / "proctor.db")
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, lock_path(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"
        turns = WriteTurns(database, timeout=0.0)
        with turns.turn() as taken:
            assert not taken
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(30)
    with turns.turn() as taken:  # the holder exited: its lock went with it
        assert taken
    turns.close()


def test_a_lock_file_that_cannot_be_made_leaves_sqlite_to_decide(tmp_path: Path) -> None:
    database = str(tmp_path / "proctor.db")
    os.mkdir(lock_path(database))  # a directory where the lock file would be
    turns = WriteTurns(database, timeout=5.0)
    with turns.turn() as taken:
        assert not taken
    turns.close()


def test_the_audit_writer_commits_only_in_its_turn(tmp_path: Path) -> None:
    database = str(tmp_path / "proctor.db")
    store = SqliteAuditStore(database)
    holder = WriteTurns(database, timeout=5.0)
    done = threading.Event()

    def append() -> None:
        store.append(make_event(1), wait=True)
        done.set()

    with holder.turn():
        writer = threading.Thread(target=append)
        writer.start()
        assert not done.wait(0.3)  # queued behind the holder's turn
        assert store.count() == 0
    writer.join(10)
    assert done.is_set()
    assert store.count() == 1
    store.close()
    holder.close()


def test_a_turn_held_forever_delays_a_record_and_never_loses_it(tmp_path: Path) -> None:
    database = str(tmp_path / "proctor.db")
    store = SqliteAuditStore(database, busy_timeout=0.2)
    holder = WriteTurns(database, timeout=5.0)
    with holder.turn():
        store.append(make_event(1), wait=True)  # written without the turn once it waited 0.2 s
        store.append(make_event(2), wait=True)
        assert store.count() == 2
        assert store.verify().ok
    store.close()
    holder.close()
