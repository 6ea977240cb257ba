"""Reading audit records for export: time bounds, a seq cursor, bounded batches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from proctor.audit.chain import StoredRow
from proctor.export.errors import EXPORT_INVALID_TIME, ExportError
from proctor.storage.protocols import AuditStore

DEFAULT_BATCH = 500
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class QueryableStore(Protocol):
    """The indexed query of the SQL stores (``SQLiteAuditStore.query``)."""

    def query(
        self, equal: dict[str, str], *, since: str | None, until: str | None, after: int, limit: int
    ) -> list[StoredRow]: ...


def parse_time(text: str | None, now: datetime, option: str = "--since") -> str | None:
    """``text`` (ISO 8601, or a duration back from ``now``: ``15m``, ``2h``, ``7d``) as the
    records' own time format, so it compares with their ``ts`` as text."""
    if text is None:
        return None
    duration = _DURATION.match(text.strip())
    if duration is not None:
        moment = now - timedelta(seconds=int(duration[1]) * _UNIT_SECONDS[duration[2]])
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ExportError(
                f"`{option} {text}` is neither an ISO 8601 time (2026-11-24T10:00:00Z) "
                "nor a duration (15m, 2h, 7d)",
                code=EXPORT_INVALID_TIME,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def record_of(row: StoredRow) -> dict[str, Any]:
    """The stored record with its chain position: ``seq`` and ``hash`` first."""
    body: dict[str, Any] = orjson.loads(row.body)
    return {"seq": row.seq, "hash": row.hash, **body}


def read_batch(
    store: AuditStore,
    *,
    after: int = 0,
    since: str | None = None,
    until: str | None = None,
    limit: int = DEFAULT_BATCH,
) -> list[StoredRow]:
    """Up to ``limit`` rows past seq ``after`` with ``since <= ts < until``, in seq order."""
    query = getattr(store, "query", None)
    if query is not None:  # the SQL stores: an indexed range read
        rows: list[StoredRow] = query({}, since=since, until=until, after=after, limit=limit)
        return rows
    found: list[StoredRow] = []
    for row in store.iter_rows():
        ts = row.ts or ""
        if row.seq <= after or (since and ts < since) or (until and ts >= until):
            continue
        found.append(row)
        if len(found) == limit:
            break
    return found


def iter_records(
    store: AuditStore,
    *,
    since: str | None = None,
    until: str | None = None,
    after: int = 0,
    batch: int = DEFAULT_BATCH,
) -> Iterator[StoredRow]:
    """Every matching row, read ``batch`` rows at a time (memory stays bounded)."""
    while True:
        rows = read_batch(store, after=after, since=since, until=until, limit=batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq
