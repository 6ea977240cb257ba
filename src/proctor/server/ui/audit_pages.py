"""The decision feed and search, one decision's page, and the chain verification view."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proctor.server.ui import trail
from proctor.server.ui.rendering import fragment, gateway_state, render
from proctor.server.ui.sessions import account
from proctor.storage.audit_query import FILTER_COLUMNS

_FORM_FIELDS = (*FILTER_COLUMNS, "since", "until")
# Record numbers are SQLite integers: a cursor past the largest one reads as the largest.
_LAST_SEQ = 2**63 - 1


def _search(request: Request) -> tuple[trail.Search, str | None]:
    query = {key: request.query_params.get(key, "") for key in _FORM_FIELDS}
    try:
        return trail.Search.from_query(query), None
    except ValueError as exc:
        return trail.Search({}), str(exc)


def _cursor(text: str | None, name: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):  # not `²` or `٣`, which int() refuses
        raise HTTPException(400, f"`{name}` must be a record number")
    digits = text.lstrip("0") or "0"
    return _LAST_SEQ if len(digits) > 19 else min(int(digits), _LAST_SEQ)


async def feed(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    search, problem = _search(request)
    before = _cursor(request.query_params.get("before"), "before")
    store = state.runtime.audit
    page = await to_thread.run_sync(
        lambda: trail.newest(store, search, before=before, limit=trail.PAGE_SIZE)
    )
    filters = {key: request.query_params.get(key, "") for key in _FORM_FIELDS}
    kept = {key: value for key, value in filters.items() if value}
    return render(
        request,
        "feed.html",
        {
            "filters": filters,
            "problem": problem,
            "rows": page.rows,
            "first_page": before is None,
            "newest_seq": page.rows[0]["seq"] if page.rows and before is None else 0,
            "older": urlencode({**kept, "before": page.older}) if page.older else None,
            "query": urlencode(kept),
            "effects": ("allow", "require_approval", "deny"),
        },
        account=signed_in,
        page="feed",
    )


async def newer_rows(request: Request) -> Response:
    """The rows past ``after`` as table rows: what the feed's script inserts on top."""
    state = gateway_state(request)
    signed_in = account(request, state)
    search, problem = _search(request)
    after = _cursor(request.query_params.get("after"), "after") or 0
    store = state.runtime.audit
    rows = (
        [] if problem else await to_thread.run_sync(lambda: trail.newer(store, search, after=after))
    )
    del signed_in
    return fragment(request, "feed_rows.html", {"rows": rows})


async def decision(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    decision_id = request.path_params["decision_id"]
    store = state.runtime.audit

    def read() -> tuple[dict[str, Any] | None, trail.ChainStatus | None]:
        found = store.get(decision_id)
        if found is None:
            store.flush(timeout=5.0)
            found = store.get(decision_id)
        if found is None:
            return None, None
        return found, trail.chain_status(store, int(found["seq"]))

    record, status = await to_thread.run_sync(read)
    if record is None or status is None:
        raise HTTPException(404, f"no audit record `{decision_id}`")
    return render(
        request,
        "decision.html",
        {"r": record, "chain": status, "findings": _findings(record)},
        account=signed_in,
        page="feed",
    )


async def chain(request: Request) -> Response:
    state = gateway_state(request)
    signed_in = account(request, state)
    store = state.runtime.audit
    run = request.query_params.get("verify") == "1"

    def read() -> tuple[Any, Any, int]:
        store.flush(timeout=5.0)
        return store.head(), store.verify() if run else None, store.count()

    head, report, count = await to_thread.run_sync(read)
    return render(
        request,
        "chain.html",
        {"head": head, "report": report, "count": count},
        account=signed_in,
        page="chain",
    )


def _findings(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Scanner findings kept in the record (top level or under ``extra``)."""
    extra = record.get("extra") or {}
    found = record.get("findings") or extra.get("findings") or []
    return [item for item in found if isinstance(item, dict)]


routes = [
    Route("/feed", feed, methods=["GET"]),
    Route("/feed/newer", newer_rows, methods=["GET"]),
    Route("/decisions/{decision_id}", decision, methods=["GET"]),
    Route("/chain", chain, methods=["GET"]),
]
