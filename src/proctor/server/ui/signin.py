"""Sign-in with an admin key's id and the key, and sign-out (both POSTs carry the CSRF token).

Failed sign-ins are counted per client address and per key id
(``SignInThrottle``) and each is an audit record (``kind: sign_in``); past
the limit an attempt is answered 429 with ``Retry-After`` and its key is not
even compared.
"""

from __future__ import annotations

import secrets

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proctor.server.state import GatewayState
from proctor.server.ui.rendering import base, flash, gateway_state, redirect, render
from proctor.server.ui.sessions import CSRF_FIELD, check_key, checked_form, sign_in, sign_out
from proctor.server.ui.throttle import SignInThrottle

SIGN_IN_FAILED = "sign_in_failed"
_NAME_KEPT = 200  # characters of a sent key id kept in counters and records


def _safe_next(request: Request, wanted: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect elsewhere."""
    root = base(request)
    if wanted and wanted.startswith(root + "/") and not wanted.startswith("//"):
        return wanted
    return root + "/feed"


async def login_form(request: Request) -> Response:
    if not request.session.get(CSRF_FIELD):  # a token before sign-in too (login CSRF)
        request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return render(
        request,
        "login.html",
        {"next": _safe_next(request, request.query_params.get("next")), "error": None, "name": ""},
        account=None,
    )


async def login(request: Request) -> Response:
    state = gateway_state(request)
    form = await checked_form(request)
    name, key = form.get("account", "").strip(), form.get("key", "")
    wanted = _safe_next(request, form.get("next"))
    client = request.client.host if request.client is not None else "unknown"
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    wait = throttle.retry_after(client, name[:_NAME_KEPT])
    if wait:
        refused = _form_again(
            request, wanted, name, f"too many failed sign-ins: try again in {wait} seconds", 429
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    found = check_key(state, name, key) if name and key else None
    if found is None:
        locked = throttle.failed(client, name[:_NAME_KEPT])
        await to_thread.run_sync(lambda: _record_failure(state, client, name, locked))
        return _form_again(
            request,
            wanted,
            name,
            "that account and key do not match an admin key allowed to read the audit",
            401,
        )
    throttle.succeeded(client, name[:_NAME_KEPT])
    sign_in(request, found, state.runtime.clock().timestamp())
    flash(request, f"signed in as {found.name}")
    return RedirectResponse(wanted, status_code=303)


def _form_again(request: Request, wanted: str, name: str, error: str, status: int) -> Response:
    return render(
        request,
        "login.html",
        {"next": wanted, "error": error, "name": name[:_NAME_KEPT]},
        account=None,
        status=status,
    )


def _record_failure(state: GatewayState, client: str, name: str, locked: bool) -> None:
    kept = name[:_NAME_KEPT]
    state.runtime.record(
        "sign_in",
        action="ui:sign_in",
        effect="deny",
        reason=f"dashboard sign-in as `{kept}` from {client} failed"
        + ("; further attempts are refused for a while" if locked else ""),
        agent=None,
        user=None,
        extra={"code": SIGN_IN_FAILED, "account": kept, "client": client, "locked": locked},
    )


async def logout(request: Request) -> Response:
    await checked_form(request)
    now = gateway_state(request).runtime.clock().timestamp()
    ended = request.app.state.ended_sessions
    await to_thread.run_sync(lambda: sign_out(request, ended, now))  # may write the store
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    flash(request, "signed out")
    return redirect(request, "/login")


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
