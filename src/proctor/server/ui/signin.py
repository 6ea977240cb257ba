"""Sign-in with an admin key's id and the key, and sign-out (both POSTs carry the CSRF token)."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from proctor.server.ui.rendering import base, flash, gateway_state, redirect, render
from proctor.server.ui.sessions import CSRF_FIELD, check_key, checked_form, sign_in, sign_out


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
    found = check_key(state, name, key) if name and key else None
    wanted = _safe_next(request, form.get("next"))
    if found is None:
        return render(
            request,
            "login.html",
            {
                "next": wanted,
                "error": "that account and key do not match an admin key allowed to read the audit",
                "name": name,
            },
            account=None,
            status=401,
        )
    sign_in(request, found)
    flash(request, f"signed in as {found.name}")
    return RedirectResponse(wanted, status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    sign_out(request)
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    flash(request, "signed out")
    return redirect(request, "/login")


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
