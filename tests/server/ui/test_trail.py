"""Reading the trail for the dashboard: newest-first pages, the poll, one record's chain status."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proctor.server.ui import trail
from proctor.storage.memory import MemoryAuditStore
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    opened: Any = (
        SqliteAuditStore(tmp_path / "audit.db") if request.param == "sqlite" else MemoryAuditStore()
    )
    for number in range(1, 8):
        user = {"sub": "bob" if number % 3 == 0 else "alice", "claims": {}}
        opened.append(make_event(number, user=user, effect="deny" if number % 2 else "allow"))
    opened.flush()
    yield opened
    opened.close()


def test_pages_run_newest_first_and_continue_with_older(store: Any) -> None:
    first = trail.newest(store, trail.Search({}), before=None, limit=3)
    assert [row["seq"] for row in first.rows] == [7, 6, 5]
    assert first.older == 5
    second = trail.newest(store, trail.Search({}), before=first.older, limit=3)
    assert [row["seq"] for row in second.rows] == [4, 3, 2]
    last = trail.newest(store, trail.Search({}), before=second.older, limit=3)
    assert [row["seq"] for row in last.rows] == [1]
    assert last.older is None


def test_filters_and_the_time_window(store: Any) -> None:
    search = trail.Search.from_query({"user": "alice", "effect": "deny"})
    assert [r["seq"] for r in trail.newest(store, search, before=None, limit=50).rows] == [7, 5, 1]
    window = trail.Search.from_query(
        {"since": "2026-05-09T07:35:02", "until": "2026-05-09T07:35:04"}
    )
    assert [r["seq"] for r in trail.newest(store, window, before=None, limit=50).rows] == [3, 2]


def test_a_time_it_cannot_read_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a date and time"):
        trail.Search.from_query({"since": "yesterday"})


def test_the_poll_returns_what_came_after(store: Any) -> None:
    newer = trail.newer(store, trail.Search({}), after=5)
    assert [row["seq"] for row in newer] == [7, 6]
    bob = trail.newer(store, trail.Search.from_query({"user": "bob"}), after=0)
    assert [row["seq"] for row in bob] == [6, 3]


def test_chain_status_of_a_record_and_of_the_head(store: Any) -> None:
    middle = trail.chain_status(store, 4)
    assert middle.ok
    assert [ok for _, ok in middle.checks] == [True, True, True]
    head = trail.chain_status(store, 7)
    assert head.ok
    assert "head" in head.checks[-1][0]
    assert trail.chain_status(store, 1).ok
    assert not trail.chain_status(store, 99).ok


def _three_records_then(tmp_path: Path, edit: str) -> SqliteAuditStore:
    """A store of three records, reopened after ``edit`` (SQL) changed the file under it."""
    path = tmp_path / "audit.db"
    store = SqliteAuditStore(path)
    for number in range(1, 4):
        store.append(make_event(number))
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute(edit)
    return SqliteAuditStore(path)


def test_an_edited_record_shows_a_broken_status(tmp_path: Path) -> None:
    edit = "UPDATE audit SET body = replace(body, 'ord-2', 'ord-X') WHERE seq = 2"
    reopened = _three_records_then(tmp_path, edit)
    try:
        status = trail.chain_status(reopened, 2)
        assert not status.ok
        assert status.checks[0] == ("its hash matches its content", False)
    finally:
        reopened.close()


def test_a_record_that_is_not_json_is_listed_as_unreadable(tmp_path: Path) -> None:
    reopened = _three_records_then(tmp_path, "UPDATE audit SET body = 'not json' WHERE seq = 2")
    try:
        rows = trail.newest(reopened, trail.Search({}), before=None, limit=10).rows
        assert [row["effect"] for row in rows] == ["allow", "unreadable", "allow"]
        assert not trail.chain_status(reopened, 2).ok
        assert not trail.chain_status(reopened, 1).ok  # record 2 no longer names it
    finally:
        reopened.close()
