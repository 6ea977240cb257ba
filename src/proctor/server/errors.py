"""The one wire error envelope, made here and nowhere else.

Every error any route returns has the same JSON shape::

    {"error": "invalid_request", "error_description": "...", "code": "...", "status": 400}

``error`` is a short category (on ``POST /oauth2/token`` it is the OAuth
error value of RFC 6749 §5.2 / RFC 8693 §2.2.2, so OAuth clients read it as
they expect); ``error_description`` the human message; ``code`` proctor's
stable, finer code; ``status`` the HTTP status; ``details`` and ``hint``
appear when there is more to say. Exceptions become responses only in
``install_handlers`` (and ``handled_error`` for the plain ``POST /v1/check``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from proctor.errors import ProctorError
from proctor.identity.errors import ExchangeError
from proctor.storage.errors import StorageError

_log = logging.getLogger("proctor.server")

_CATEGORY = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "server_error",
    503: "temporarily_unavailable",
}


class ApiError(ProctorError):
    """An error with its HTTP status (and, for OAuth routes, its wire ``error`` value)."""

    code = "api_error"

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        error: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error = error or _CATEGORY.get(status, "error")
        self.headers = headers or {}
        super().__init__(message, code=code or self.error, details=details)


def error_response(
    status: int,
    message: str,
    *,
    code: str,
    error: str | None = None,
    hint: str | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The envelope as a response; ``no-store`` as RFC 6749 §5.2 asks of token errors."""
    body: dict[str, Any] = {
        "error": error or _CATEGORY.get(status, "error"),
        "error_description": message,
        "code": code,
        "status": status,
    }
    if hint:
        body["hint"] = hint
    if details:
        body["details"] = details
    return JSONResponse(
        body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def _api_error(exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status,
        exc.message,
        code=exc.code,
        error=exc.error,
        details=exc.details,
        headers=exc.headers,
    )


def _exchange_error(exc: Exception) -> Response:
    assert isinstance(exc, ExchangeError)
    # RFC 6749 §5.2: a 401 (invalid_client) carries a WWW-Authenticate challenge
    headers = {"WWW-Authenticate": 'Bearer realm="proctor"'} if exc.status_code == 401 else None
    return error_response(
        exc.status_code, exc.message, code=exc.code, error=exc.error, headers=headers
    )


def _storage_error(exc: Exception) -> Response:
    assert isinstance(exc, StorageError)
    return error_response(503, exc.message, code=exc.code, hint=exc.hint)


def _proctor_error(exc: Exception) -> Response:
    assert isinstance(exc, ProctorError)
    details = exc.details or None
    errors = getattr(exc, "errors", None)
    if errors:
        details = {"errors": [item.to_dict() for item in errors]}
    return error_response(400, exc.message, code=exc.code, hint=exc.hint, details=details)


def _http_error(exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    code = _CATEGORY.get(status, "http_error")
    return error_response(
        status, message.lower().rstrip("."), code=code, headers=dict(exc.headers or {})
    )


def unexpected_error(exc: Exception) -> Response:
    """A 500 for an exception no handler knows; logged, its details kept out of the answer."""
    _log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal error", code="internal_error")


# The most specific class wins (looked up along the exception's MRO, as Starlette does).
_RENDERERS: dict[type[Exception], Callable[[Exception], Response]] = {
    ApiError: _api_error,
    ExchangeError: _exchange_error,
    StorageError: _storage_error,
    ProctorError: _proctor_error,
    HTTPException: _http_error,
}


def handled_error(exc: Exception) -> Response | None:
    """The envelope a known exception is answered with; None for any other (a 500)."""
    for cls in type(exc).__mro__:
        render = _RENDERERS.get(cls)
        if render is not None:
            return render(exc)
    return None


def _handler(render: Callable[[Exception], Response]) -> ExceptionHandler:
    async def handle(_request: Request, exc: Exception) -> Response:
        return render(exc)

    return handle


def install_handlers(app: Starlette) -> None:
    """Map every exception to the envelope (the most specific class wins)."""
    for cls, render in _RENDERERS.items():
        app.add_exception_handler(cls, _handler(render))
    app.add_exception_handler(Exception, _handler(unexpected_error))
