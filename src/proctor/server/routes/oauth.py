"""``POST /oauth2/token`` (RFC 8693 token exchange) and ``GET /.well-known/jwks.json``.

The request is form-encoded (RFC 8693 §2.1); refusals are the RFC 6749 §5.2
error body (``error``, ``error_description``) inside proctor's envelope, with
401 for a failed client authentication. The client authenticates with the
``actor_token`` (an agent API key or a signed client assertion), or with
``Authorization: Bearer`` holding its API key (it is then the actor).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.identity.errors import INVALID_CLIENT, INVALID_REQUEST, ExchangeError
from proctor.identity.exchange import TokenExchangeRequest
from proctor.server.errors import ApiError
from proctor.server.state import gateway

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def token(request: Request) -> Response:
    state = gateway(request)
    actor: str | None = None
    if request.headers.get("authorization"):
        principal = state.auth.authenticate(request)
        if principal.kind != "agent":
            raise ExchangeError(
                INVALID_CLIENT, "authenticate with the agent's API key or an `actor_token`"
            )
        actor = principal.agent_id
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        if actor is None:
            raise _client_authentication_required()
        raise ExchangeError(
            INVALID_REQUEST, "send the request form-encoded (`application/x-www-form-urlencoded`)"
        )
    try:
        pairs = parse_qsl(
            (await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=50
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExchangeError(INVALID_REQUEST, "the form cannot be read (utf-8, 50 fields)") from exc
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    if actor is None and "actor_token" not in fields:
        raise _client_authentication_required()
    if state.runtime.identity is None:
        raise ApiError(
            404,
            "token exchange is not configured: add an `identity:` section",
            code="token_not_configured",
        )
    exchange_request = TokenExchangeRequest.from_form(fields)
    try:
        issued = await to_thread.run_sync(
            lambda: state.runtime.exchange(exchange_request, actor=actor)
        )
    finally:
        await state.commits.wait()  # the exchange (or its refusal) is recorded first
    return JSONResponse(issued.response.to_dict(), headers=_NO_STORE)


def _client_authentication_required() -> ExchangeError:
    return ExchangeError(
        INVALID_CLIENT,
        "client authentication required: an `actor_token` or `Authorization: Bearer <api key>`",
    )


async def jwks(request: Request) -> Response:
    identity = gateway(request).runtime.identity
    keys = identity.jwks() if identity is not None else {"keys": []}
    return JSONResponse(keys, headers={"Cache-Control": "public, max-age=300"})


routes = [
    Route("/oauth2/token", token, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
]
