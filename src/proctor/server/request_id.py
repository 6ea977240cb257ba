"""``X-Request-ID``: echoed on the response, as AuthZEN 1.0 asks of a PDP (§11.1.2), on every
route, errors included. A value that is not a short printable token is not echoed (it
would be someone else's header to inject). ``plain_check.py`` echoes it the same way on
``POST /v1/check``, which does not pass through this middleware."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_MAX_LENGTH = 256


class RequestIdEcho:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = _request_id(scope) if scope["type"] == "http" else None
        if value is None:
            await self.app(scope, receive, send)
            return

        async def echoing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, value)]}
            await send(message)

        await self.app(scope, receive, echoing)


def _request_id(scope: Scope) -> bytes | None:
    return echoed_id([value for name, value in scope.get("headers", ()) if name == HEADER])


def echoed_id(found: list[bytes]) -> bytes | None:
    """The value to echo, given every ``X-Request-ID`` the request sent (None: echo none)."""
    if len(found) != 1:
        return None
    value: bytes = found[0]
    if not value or len(value) > _MAX_LENGTH or any(b < 0x21 or b > 0x7E for b in value):
        return None
    return value
