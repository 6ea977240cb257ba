"""Reading audit records for export: time bounds, a seq cursor, bounded batches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from proctor.audit.chain import StoredRow
from proctor.export.errors import EXPORT_INVALID_RANGE, EXPORT_INVALID_TIME, ExportError
from proctor.model.audit_event import AuditEvent
from proctor.storage.contracts import AuditStore

DEFAULT_BATCH = 500
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# a record's fields in the order it is built and documented (docs/audit.md): v, kind, ...
FIELD_ORDER = tuple(
    AuditEvent(
        kind="", decision_id="", ts="", agent={}, action="", effect="", reason=""
    ).to_payload()
)


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


def parse_range(
    since: str | None, until: str | None, now: datetime
) -> tuple[str | None, str | None]:
    """``--since`` and ``--until`` as record times; a range that holds no time is refused
    (``export_invalid_range``) rather than answered with nothing."""
    lower, upper = parse_time(since, now), parse_time(until, now, "--until")
    if lower is not None and upper is not None and lower >= upper:  # one fixed-width format
        raise ExportError(
            f"`--since {since}` ({lower}) is not before `--until {until}` ({upper}): "
            "no record can fall between them",
            code=EXPORT_INVALID_RANGE,
        )
    return lower, upper


def record_of(row: StoredRow) -> dict[str, Any]:
    """The stored record in the documented order: ``seq`` (its place in its shard),
    ``hash``, the record's fields as docs/audit.md lists them (``v``, ``kind``,
    ``decision_id``...), then ``prev_hash``, ``shard`` and any field this version
    does not know, as stored."""
    body: dict[str, Any] = orjson.loads(row.body)
    record: dict[str, Any] = {"seq": body.pop("seq", row.seq), "hash": row.hash}
    for key in FIELD_ORDER:
        if key in body:
            record[key] = body.pop(key)
    record.update(body)
    return record


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
