"""An ASGI middleware that refuses request bodies past a size, before they are read whole.

``POST /v1/check`` does not pass through it: ``plain_check.py`` applies the same bound,
and a test compares the two (``tests/server/test_plain_check.py``)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proctor.server.errors import error_response


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 in the envelope for a declared or streamed body past ``max_bytes``.

    A streamed (chunked) body is counted as it is read; past the bound the read
    raises, and whatever the app answers or raises from then on is dropped for
    the 413, so no handler (or mounted app) can turn it into a 500.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0
        started = False
        exceeded = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # What the app makes of the refused body (a mounted app's own error
                # page, a 500 from its form parser) is replaced by the 413 below.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"the request body is larger than {self.max_bytes} bytes", code="body_too_large"
        )
        await response(scope, receive, send)
