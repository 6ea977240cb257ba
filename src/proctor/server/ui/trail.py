"""Reading the audit trail for the dashboard: filtered pages newest first, one record's links.

SQL stores answer with their indexed query (``seq`` cursor, filters on
indexed columns); a store without one (the in-memory store) is scanned.
Called on a worker thread: every read may touch the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from proctor.audit.chain import GENESIS_HASH, StoredRow
from proctor.storage.audit_query import FILTER_COLUMNS
from proctor.storage.contracts import AuditStore

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Search:
    """A feed or search: exact filters on indexed columns and a ``since <= ts < until`` window."""

    equal: Mapping[str, str]
    since: str | None = None
    until: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Search:
        """The search a filter form sent; ``ValueError`` names a time it cannot read."""
        equal = {
            column: query[name].strip()
            for name, column in FILTER_COLUMNS.items()
            if query.get(name, "").strip()
        }
        return cls(equal, _instant(query.get("since")), _instant(query.get("until")))


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    older: int | None  # pass as ``before`` for the next (older) page


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """Whether one record's hash and both its links hold."""

    ok: bool
    checks: list[tuple[str, bool]]


def newest(store: AuditStore, search: Search, *, before: int | None, limit: int) -> Page:
    """Records matching ``search`` with ``seq < before``, newest first."""
    store.flush(timeout=5.0)
    query = getattr(store, "query", None)
    if query is not None:
        found: list[StoredRow] = query(
            dict(search.equal),
            since=search.since,
            until=search.until,
            after=0,
            limit=limit + 1,
            before=before,
            newest_first=True,
        )
    else:
        found = [
            row
            for row in store.iter_rows()
            if (before is None or row.seq < before) and _matches(row, search)
        ][::-1][: limit + 1]
    more = len(found) > limit
    rows = found[:limit]
    return Page([record(row) for row in rows], rows[-1].seq if more and rows else None)


def newer(
    store: AuditStore, search: Search, *, after: int, limit: int = 100
) -> list[dict[str, Any]]:
    """Records past ``after`` (the live feed's poll), newest first."""
    store.flush(timeout=5.0)
    query = getattr(store, "query", None)
    if query is not None:
        found: list[StoredRow] = query(
            dict(search.equal), since=search.since, until=search.until, after=after, limit=limit
        )
    else:
        found = [r for r in store.iter_rows() if r.seq > after and _matches(r, search)][:limit]
    return [record(row) for row in reversed(found)]


def around(store: AuditStore, seq: int) -> dict[int, StoredRow]:
    """The rows ``seq - 1``, ``seq`` and ``seq + 1`` (those that exist)."""
    query = getattr(store, "query", None)
    if query is not None:
        found: list[StoredRow] = query({}, since=None, until=None, after=seq - 2, limit=3)
    else:
        found = [row for row in store.iter_rows() if seq - 1 <= row.seq <= seq + 1]
    return {row.seq: row for row in found}


def chain_status(store: AuditStore, seq: int) -> ChainStatus:
    """Recompute the record's hash and check the links to its neighbours."""
    rows = around(store, seq)
    this = rows.get(seq)
    if this is None:
        return ChainStatus(False, [("the record is stored at its sequence number", False)])
    body = _bytes(this.body)
    content = _parsed(body)
    checks = [("its hash matches its content", hashlib.sha256(body).hexdigest() == this.hash)]
    previous = rows.get(seq - 1)
    expected_prev = GENESIS_HASH if seq == 1 else (previous.hash if previous else None)
    checks.append(
        (f"it names record {seq - 1}'s hash" if seq > 1 else "it starts the chain (genesis)",
         expected_prev is not None and content.get("prev_hash") == expected_prev)
    )  # fmt: skip
    following = rows.get(seq + 1)
    if following is not None:
        linked = _parsed(_bytes(following.body)).get("prev_hash") == this.hash
        checks.append((f"record {seq + 1} names its hash", linked))
    else:
        checks.append(("it is the newest record (the head)", store.head().hash == this.hash))
    return ChainStatus(all(ok for _, ok in checks), checks)


def record(row: StoredRow) -> dict[str, Any]:
    """The stored record with its hash; a record whose content is not JSON is shown as such."""
    body = _parsed(_bytes(row.body))
    if not body:
        body = {
            "seq": row.seq,
            "decision_id": row.decision_id,
            "ts": row.ts,
            "kind": row.kind,
            "action": row.action,
            "effect": "unreadable",
            "reason": "the stored content is not a readable record: verify the chain",
        }
    body["hash"] = row.hash
    return body


def _parsed(body: bytes) -> dict[str, Any]:
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _matches(row: StoredRow, search: Search) -> bool:
    for column, value in search.equal.items():
        if getattr(row, column) != value:
            return False
    ts = row.ts or ""
    if search.since is not None and ts < search.since:
        return False
    return not (search.until is not None and ts >= search.until)


def _instant(text: str | None) -> str | None:
    """A ``datetime-local`` value (read as UTC) as the audit's timestamp text."""
    if not text or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"`{text.strip()}` is not a date and time (YYYY-MM-DDTHH:MM)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
