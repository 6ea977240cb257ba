"""The audit listing query (``query``) of the SQL stores: filters, time range, seq cursor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "postgres":
        from proctor.storage.postgres.audit_store import PostgresAuditStore

        opened: Any = PostgresAuditStore(request.getfixturevalue("postgres_url"))
    else:
        opened = SqliteAuditStore(tmp_path / "audit.db")
    yield opened
    opened.close()


def test_filters_range_and_cursor(sql_store: Any) -> None:
    for number in range(1, 11):
        sql_store.append(make_event(number, effect="allow" if number % 2 else "deny"))
    sql_store.flush()
    allowed = sql_store.query({"effect": "allow"}, since=None, until=None, after=0, limit=100)
    assert [row.seq for row in allowed] == [1, 3, 5, 7, 9]
    page = sql_store.query({"effect": "allow"}, since=None, until=None, after=3, limit=2)
    assert [row.seq for row in page] == [5, 7]
    everything = sql_store.query({}, since=None, until=None, after=0, limit=100)
    middle = everything[4].ts
    later = sql_store.query({}, since=middle, until=None, after=0, limit=100)
    assert later[0].seq == 5
    with pytest.raises(ValueError, match="queryable"):
        sql_store.query({"body": "x"}, since=None, until=None, after=0, limit=1)


def test_newest_first_pages_backwards_from_before(sql_store: Any) -> None:
    for number in range(1, 11):
        sql_store.append(make_event(number, effect="allow" if number % 2 else "deny"))
    sql_store.flush()

    def page(before: int | None, **equal: str) -> list[int]:
        rows = sql_store.query(
            equal, since=None, until=None, after=0, limit=3, before=before, newest_first=True
        )
        return [row.seq for row in rows]

    assert page(None) == [10, 9, 8]
    assert page(8) == [7, 6, 5]
    assert page(None, effect="deny") == [10, 8, 6]
    assert page(6, effect="deny") == [4, 2]
