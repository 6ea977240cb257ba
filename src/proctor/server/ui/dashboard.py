"""The dashboard app, mounted at ``/ui`` by the gateway: pages, static files, session, headers.

Its own Starlette app, so its errors are HTML pages (the API keeps the JSON
envelope) and its session cookie is scoped to ``/ui``.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proctor.errors import ProctorError
from proctor.server.state import GatewayState
from proctor.server.ui import admin_pages, approval_pages, audit_pages, signin
from proctor.server.ui.ended import EndedSessions
from proctor.server.ui.rendering import STATIC, base, render
from proctor.server.ui.sessions import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    Account,
    SignInRequired,
    current,
    session_secret,
)
from proctor.server.ui.throttle import SignInThrottle

# Everything the pages load comes from /ui/static: no inline script, no third party.
_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # decided now: routing below rewrites this scope's paths in place
        page = not scope["path"].startswith(base_path(scope) + "/static/")
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    _secure_cookie(name, value) if secure else (name, value)
                    for name, value in message.get("headers", [])
                ]
                headers += [(k.encode(), v.encode()) for k, v in _HEADERS.items()]
                if page:  # pages hold audit data: never cached
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _secure_cookie(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """The session cookie over TLS (direct, or a proxy's ``X-Forwarded-Proto``): ``Secure``.

    Then a browser never sends it over plain HTTP, where anyone on the path
    could read it (a link to ``http://`` the same host is enough to make it try).
    """
    if name.lower() == b"set-cookie" and value.startswith(SESSION_COOKIE.encode() + b"="):
        return name, value + b"; secure"
    return name, value


def base_path(scope: Scope) -> str:
    root: str = scope.get("root_path", "")
    return root


def create_dashboard(state: GatewayState) -> Starlette:
    """The dashboard over the gateway's ``state`` (its runtime, admin keys, approval desk)."""

    async def home(request: Request) -> Response:
        return RedirectResponse(base(request) + "/feed", status_code=303)

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            *signin.routes,
            *audit_pages.routes,
            *approval_pages.routes,
            *admin_pages.routes,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(_SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=session_secret(state),
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_SECONDS,
                path="/ui",
                same_site="strict",
            ),
        ],
        exception_handlers={
            SignInRequired: _to_sign_in,
            HTTPException: _error_page,
            ProctorError: _proctor_error_page,
        },
    )
    app.state.gateway = state
    app.state.sign_in_throttle = SignInThrottle(lambda: state.runtime.clock().timestamp())
    app.state.ended_sessions = EndedSessions(state)
    return app


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{base(request)}/login?next={quote(wanted)}", status_code=303)


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render(
        request,
        "error.html",
        {"status": exc.status_code, "message": exc.detail},
        account=_viewer(request),
        status=exc.status_code,
    )


async def _proctor_error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProctorError)
    status = 503 if exc.code.startswith("storage") else 409
    return render(
        request,
        "error.html",
        {"status": status, "message": f"{exc.message} ({exc.code})"},
        account=_viewer(request),
        status=status,
    )


def _viewer(request: Request) -> Account | None:
    """Who the error page is for; nobody when even that cannot be read (the store is down)."""
    try:
        return current(request, request.app.state.gateway)
    except ProctorError:
        return None
