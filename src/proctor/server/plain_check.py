"""``POST /v1/check`` answered by plain ASGI: the gateway's hot route, without the framework.

Starlette's stack around a route (its error middleware, ``RequestIdEcho``,
``CloseWhenDraining``, ``BodySizeLimit``, its exception middleware, the
router, ``Request`` and ``JSONResponse``) cost a check more CPU than its
policies. ``answer_check`` does what that stack does for this one route, in
the same order, with one pass over the headers:

1. a declared ``Content-Length`` past ``server.max_body_bytes``: 413, unread;
2. the credential (400 for two ``Authorization`` headers, 401, 403), then the
   media type (415);
3. the body, counted as it is read: 413 past the bound; a client that
   disconnects before sending it whole gets no answer;
4. JSON (400 ``invalid_json``), the fields (400 ``invalid_body``), who the
   check is for (``checks.bind``), the decision (``checks.decide_once``: the
   metrics, the commit barrier), answered as the route answers it;
5. every answer, errors included, echoes ``X-Request-ID`` and says
   ``Connection: close`` while the gateway drains; an exception is answered
   by the envelope of the same table as every other route
   (``errors.handled_error``); one no table knows is logged, answered 500
   and raised on, as Starlette's error middleware does.

Every other method and path goes through Starlette (``app.GatewayApp``).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from proctor.server.auth import duplicate_credentials
from proctor.server.bodies import CheckBody, parse_json, require_json
from proctor.server.checks import bind, decide_once, valid_traceparent
from proctor.server.errors import error_response, handled_error, unexpected_error
from proctor.server.request_id import HEADER as REQUEST_ID
from proctor.server.request_id import echoed_id
from proctor.server.responses import json_bytes
from proctor.server.routes.check import wire
from proctor.server.state import GatewayState
from proctor.telemetry import TRACEPARENT_HEADER

CHECK_PATH = "/v1/check"
_TRACEPARENT = TRACEPARENT_HEADER.encode()
_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")


def is_plain_check(scope: Scope) -> bool:
    """True for the requests ``answer_check`` answers (``POST /v1/check``, no mount prefix)."""
    return (
        scope["type"] == "http"
        and scope["path"] == CHECK_PATH
        and scope["method"] == "POST"
        and not scope.get("root_path")
    )


async def answer_check(state: GatewayState, scope: Scope, receive: Receive, send: Send) -> None:
    authorization = content_type = traceparent = None
    credentials = 0
    request_ids: list[bytes] = []
    limit = state.settings.max_body_bytes
    too_large = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            credentials += 1
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            if content_type is None:
                content_type = value.decode("latin-1")
        elif name == b"content-length":
            try:
                too_large = too_large or int(value) > limit
            except ValueError:
                too_large = True
        elif name == _TRACEPARENT:
            if traceparent is None:
                traceparent = value.decode("latin-1")
        elif name == REQUEST_ID:
            request_ids.append(value)
    extra: list[tuple[bytes, bytes]] = [_CLOSE] if state.draining else []
    echoed = echoed_id(request_ids) if request_ids else None
    if echoed is not None:
        extra.append((REQUEST_ID, echoed))
    try:
        if too_large:
            await _answer(_too_large(limit), scope, receive, send, extra)
            return
        if credentials > 1:
            raise duplicate_credentials()
        principal = state.auth.bearer(authorization)
        require_json(content_type)
        raw = await _body(receive, limit)
        if raw is None:  # disconnected: no one to answer
            return
        body = bind(state, principal, parse_json(raw, CheckBody))
        decision = await decide_once(state, principal, body, valid_traceparent(traceparent))
    except _BodyTooLarge:
        await _answer(_too_large(limit), scope, receive, send, extra)
        return
    except Exception as exc:
        response = handled_error(exc)
        if response is not None:
            await _answer(response, scope, receive, send, extra)
            return
        await _answer(unexpected_error(exc), scope, receive, send, extra)
        raise
    answer = json_bytes(wire(decision))
    headers = [(b"content-length", str(len(answer)).encode()), _JSON, *extra]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


class _BodyTooLarge(Exception):
    """The body went past the bound as it was read."""


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The whole body (``_BodyTooLarge`` past ``limit`` bytes); None if the client disconnects."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise _BodyTooLarge
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif kind == "http.disconnect":
            return None


def _too_large(limit: int) -> Response:
    return error_response(
        413, f"the request body is larger than {limit} bytes", code="body_too_large"
    )


async def _answer(
    response: Response,
    scope: Scope,
    receive: Receive,
    send: Send,
    extra: list[tuple[bytes, bytes]],
) -> None:
    """``response``, with the echoed request id and the draining close among its headers."""
    if not extra:
        await response(scope, receive, send)
        return

    async def with_extra(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    await response(scope, receive, with_extra)
