"""Reading records for export: time bounds as text, bounded batches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor.export.errors import ExportError
from proctor.export.records import iter_records, parse_time
from proctor.runtime import build_runtime
from proctor.storage import open_audit_store

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


def test_times_and_durations() -> None:
    assert parse_time(None, NOW) is None
    assert parse_time("2h", NOW) == "2026-11-24T10:30:00.000000Z"
    assert parse_time("7d", NOW) == "2026-11-17T12:30:00.000000Z"
    assert parse_time("2026-11-24T10:00:00+01:00", NOW) == "2026-11-24T09:00:00.000000Z"
    assert parse_time("2026-11-24T10:00", NOW) == "2026-11-24T10:00:00.000000Z"  # UTC
    with pytest.raises(ExportError) as caught:
        parse_time("yesterday", NOW, "--until")
    assert caught.value.code == "export_invalid_time"
    assert "--until yesterday" in caught.value.message


@pytest.mark.parametrize("batch", [1, 2, 500])
def test_since_and_until_select_across_batches(db: Path, batch: int) -> None:
    store = open_audit_store(str(db))
    try:
        rows = list(
            iter_records(
                store,
                since="2026-11-24T09:00:00.000000Z",
                until="2026-11-24T11:00:00.000000Z",
                batch=batch,
            )
        )
        everything = [row.seq for row in iter_records(store, batch=batch)]
    finally:
        store.close()
    assert [row.action for row in rows] == ["delete:customer", "write:refund"]
    assert everything == [1, 2, 3, 4, 5]


def test_a_store_without_an_indexed_query_is_read_the_same(tmp_path: Path) -> None:
    from tests.export.conftest import CONFIG, POLICY

    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "proctor.yaml").write_text(CONFIG)
    runtime = build_runtime(tmp_path / "proctor.yaml", audit=":memory:", wait_for_audit=True)
    for action in ("read:a", "delete:b", "read:c"):
        runtime.check(action, agent="support-bot")
    assert not hasattr(runtime.audit, "query")
    rows = list(iter_records(runtime.audit, batch=2))
    since = rows[1].ts
    later = list(iter_records(runtime.audit, since=since, batch=1))
    runtime.close()
    assert [row.seq for row in rows] == [1, 2, 3]
    assert [row.seq for row in later] == [2, 3]
