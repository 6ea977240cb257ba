"""``GET /v1/audit`` (filters, cursor pagination by seq), ``/v1/audit/verify``, one record,
the latest signed checkpoint and one record's inclusion proof."""

from __future__ import annotations

from typing import Any

import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.audit.chain import StoredRow
from proctor.errors import ProctorError
from proctor.runtime.audit_proofs import checkpoint_note, prove
from proctor.server.auth import AUDIT_READ, require
from proctor.server.errors import ApiError
from proctor.server.state import caller
from proctor.storage.audit_query import FILTER_COLUMNS

MAX_PAGE = 500


async def list_records(request: Request) -> Response:
    """Records in ``seq`` order after ``cursor``; ``next_cursor`` continues (null at the end).

    Filters: ``user``, ``agent``, ``action``, ``effect``, ``run``, ``kind`` (exact),
    ``since`` and ``until`` (ISO 8601 UTC, ``since <= ts < until``).
    """
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    query = request.query_params
    unknown = set(query) - {*FILTER_COLUMNS, "since", "until", "cursor", "limit"}
    if unknown:
        raise ApiError(400, f"unknown query parameter `{sorted(unknown)[0]}`", code="invalid_query")
    limit = _int(query.get("limit", "100"), "limit", 1, MAX_PAGE)
    cursor = _int(query.get("cursor", "0"), "cursor", 0, 2**62)
    wanted = {column: query[name] for name, column in FILTER_COLUMNS.items() if name in query}
    since, until = query.get("since"), query.get("until")
    store = state.runtime.audit

    def page() -> tuple[list[dict[str, Any]], int | None]:
        store.flush(timeout=5.0)
        query = getattr(store, "query", None)
        if query is not None:  # the store's indexed query (SQLite, PostgreSQL)
            rows = query(wanted, since=since, until=until, after=cursor, limit=limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            return [_record(row) for row in rows], (rows[-1].seq if more else None)
        found: list[dict[str, Any]] = []
        last_seen: int | None = None
        for row in store.iter_rows():
            if row.seq <= cursor:
                continue
            if not _matches(row, wanted, since, until):
                continue
            if len(found) == limit:
                return found, last_seen
            found.append(_record(row))
            last_seen = row.seq
        return found, None

    records, next_cursor = await to_thread.run_sync(page)
    return JSONResponse({"records": records, "next_cursor": next_cursor})


async def verify(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    store = state.runtime.audit

    def run() -> dict[str, Any]:
        store.flush(timeout=5.0)
        report = store.verify()
        return {
            "ok": report.ok,
            "checked": report.checked,
            "first_bad_seq": report.first_bad_seq,
            "problem": report.problem,
        }

    return JSONResponse(await to_thread.run_sync(run))


async def one_record(request: Request) -> Response:
    state, principal = caller(request)
    decision_id = request.path_params["decision_id"]
    require(principal, AUDIT_READ)
    store = state.runtime.audit

    def read() -> dict[str, Any] | None:
        found = store.get(decision_id)
        if found is None:
            store.flush(timeout=5.0)
            found = store.get(decision_id)
        return found

    record = await to_thread.run_sync(read)
    if record is None:
        raise ApiError(404, f"no audit record `{decision_id}`", code="record_not_found")
    return JSONResponse(record)


async def latest_checkpoint(request: Request) -> Response:
    """The latest signed checkpoint: its number, size, root and the note (C2SP signed note)."""
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    store = state.runtime.audit
    try:
        note, checkpoint = await to_thread.run_sync(checkpoint_note, store, None)
    except ProctorError as exc:
        raise ApiError(404, exc.message, code=exc.code) from exc
    body = {"number": checkpoint.number, "size": checkpoint.size, "time": checkpoint.time}
    return JSONResponse({**body, "origin": checkpoint.origin, "note": note})


async def record_proof(request: Request) -> Response:
    """The inclusion proof of one record in the latest checkpoint (``?checkpoint=N`` another)."""
    state, principal = caller(request)
    decision_id = request.path_params["decision_id"]
    require(principal, AUDIT_READ)
    unknown = set(request.query_params) - {"checkpoint"}
    if unknown:
        raise ApiError(400, f"unknown query parameter `{sorted(unknown)[0]}`", code="invalid_query")
    raw = request.query_params.get("checkpoint")
    number = None if raw is None else _int(raw, "checkpoint", 1, 2**62)
    store = state.runtime.audit
    try:
        document = await to_thread.run_sync(prove, store, decision_id, number)
    except ProctorError as exc:
        status = 409 if exc.code == "audit_not_checkpointed" else 404
        raise ApiError(status, exc.message, code=exc.code) from exc
    return JSONResponse(document)


def _matches(row: StoredRow, wanted: dict[str, str], since: str | None, until: str | None) -> bool:
    for column, value in wanted.items():
        if getattr(row, column) != value:
            return False
    ts = row.ts or ""
    return not ((since is not None and ts < since) or (until is not None and ts >= until))


def _record(row: StoredRow) -> dict[str, Any]:
    body = orjson.loads(row.body)
    return {"seq": row.seq, "hash": row.hash, "record": body}


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"`{name}` must be an integer", code="invalid_query") from None
    if not low <= value <= high:
        raise ApiError(400, f"`{name}` must be within {low}..{high}", code="invalid_query")
    return value


routes = [
    Route("/v1/audit", list_records, methods=["GET"]),
    Route("/v1/audit/verify", verify, methods=["GET"]),
    Route("/v1/audit/checkpoint", latest_checkpoint, methods=["GET"]),
    Route("/v1/audit/{decision_id}", one_record, methods=["GET"]),
    Route("/v1/audit/{decision_id}/proof", record_proof, methods=["GET"]),
]
