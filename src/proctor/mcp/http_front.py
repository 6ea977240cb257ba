"""The Streamable HTTP front (MCP 2025-06-18 "Streamable HTTP" transport) on one endpoint.

* ``POST /mcp``: one JSON-RPC message. ``initialize`` opens a session (its
  own upstream, its own run) and answers with ``Mcp-Session-Id``; a request
  is answered on an SSE stream that carries its progress and the server's
  messages, then its response (plain JSON when the client accepts no SSE);
  notifications and responses get 202.
* ``GET /mcp``: the session's stream of server messages no request carries,
  or with ``Last-Event-ID`` the rest of a stream whose connection broke.
* ``DELETE /mcp``: ends the session and stops its upstream.

Every request's ``Host`` and ``Origin`` must name an allowed host (DNS
rebinding; ``http_guard``), and an ``MCP-Protocol-Version`` the front does not
speak, or a request without a session, answers 400.

Identity: each request's bearer token (a delegation token) is the caller of
that request. The proxy is an OAuth 2.0 protected resource: without a valid
token it answers 401 with ``WWW-Authenticate`` pointing at its metadata
(RFC 9728 §5.1), served at ``/.well-known/oauth-protected-resource``. Without
an ``identity:`` section in the config, requests carry no token and the
environment's agent is the caller (local use only).

Sessions are handshake-era: ``server/discover`` without a session is answered
400, which makes a newer client fall back to ``initialize``. One client (a
token's user and agent, else an address) holds ``sessions_per_client`` at
most: opening one more ends its least recently used idle one, and a session
answers only the client that opened it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from proctor.errors import ProctorError
from proctor.mcp.gate import Caller
from proctor.mcp.http_guard import HostAllowList, protocol_version_problem, rebinding_problem
from proctor.mcp.http_session import HttpSession, final_answer
from proctor.mcp.http_streams import EventStream, encoded, parse_event_id, primes
from proctor.mcp.jsonrpc import (
    INVALID_REQUEST,
    Message,
    envelope_problem,
    error_response,
    id_problem,
    is_request,
    parse,
)
from proctor.mcp.proxy import Proxy

log = logging.getLogger("proctor.mcp")

SESSION_HEADER = "mcp-session-id"
ENDPOINT = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource"
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_SESSIONS = 256
SESSIONS_PER_CLIENT = 16
_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class HttpTimeouts:
    """Seconds: a request's wait for its answer, a session's life without requests, and
    how long a stop waits for requests in flight before it ends their sessions."""

    call: float = 120.0
    idle: float = 900.0
    shutdown_grace: float = 10.0


class HttpFront:
    """The Starlette application and its sessions."""

    def __init__(
        self,
        proxy: Proxy,
        *,
        resource_url: str | None = None,
        timeouts: HttpTimeouts | None = None,
        allowed_hosts: tuple[str, ...] = (),
        sessions_per_client: int = SESSIONS_PER_CLIENT,
    ) -> None:
        self.proxy = proxy
        self.resource_url = resource_url
        self.timeouts = timeouts or HttpTimeouts()
        self.allowed_hosts = HostAllowList.default(allowed_hosts, resource_url)
        self.sessions_per_client = sessions_per_client
        self.sessions: dict[str, HttpSession] = {}
        identity = proxy.proctor.runtime.identity
        self.needs_token = identity is not None
        self.app = Starlette(
            routes=[
                Route(ENDPOINT, self.endpoint, methods=["GET", "POST", "DELETE"]),
                Route(METADATA_PATH, self.metadata, methods=["GET"]),
                Route(METADATA_PATH + ENDPOINT, self.metadata, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        reaper = asyncio.create_task(self._reap())
        try:
            yield
        finally:
            reaper.cancel()
            await self.close_all()

    async def close_all(self) -> None:
        sessions, self.sessions = list(self.sessions.values()), {}
        await asyncio.gather(*(session.close() for session in sessions))

    async def wind_down(self) -> None:
        """A stop: requests in flight get up to the grace period, then every session ends
        (what is still awaited is answered with an error, the upstreams are stopped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeouts.shutdown_grace
        while any(s.busy for s in self.sessions.values()) and loop.time() < deadline:
            await asyncio.sleep(_POLL_SECONDS)
        await self.close_all()

    async def _reap(self) -> None:
        """End the sessions idle for longer than ``timeouts.idle`` (and stop their upstreams)."""
        interval = max(_POLL_SECONDS, min(self.timeouts.idle / 2, 30.0))
        while True:
            await asyncio.sleep(interval)
            await self.expire_idle()

    async def expire_idle(self) -> None:
        now = asyncio.get_running_loop().time()
        idle = [
            key
            for key, session in self.sessions.items()
            if session.closed or (not session.busy and now - session.last_used > self.timeouts.idle)
        ]
        for key in idle:
            session = self.sessions.pop(key)
            if not session.closed:
                log.info("session %.8s… ended after %g s without requests", key, self.timeouts.idle)
            await session.close()

    # -- OAuth protected resource (RFC 9728) -------------------------------------------------

    def _resource(self, request: Request) -> str:
        return self.resource_url or str(request.url.replace(path=ENDPOINT, query=""))

    async def metadata(self, request: Request) -> Response:
        body: dict[str, Any] = {
            "resource": self._resource(request),
            "bearer_methods_supported": ["header"],
            "resource_name": "proctor mcp-proxy",
        }
        # an OAuth client fetches the authorization server's metadata from this URL: a URN
        # (the default issuer, `urn:proctor`) would send it nowhere, so it is left out
        issuer = self.proxy.issuer
        if issuer is not None and issuer.startswith(("https://", "http://")):
            body["authorization_servers"] = [issuer]
        return JSONResponse(body)

    def _unauthorized(self, request: Request, problem: str | None) -> Response:
        base = self._resource(request).removesuffix(ENDPOINT)
        challenge = f'Bearer resource_metadata="{base}{METADATA_PATH}"'
        if problem is not None:
            challenge += f', error="invalid_token", error_description="{_quoted(problem)}"'
        message = problem or (
            "a bearer token is required: send `Authorization: Bearer TOKEN` with a "
            "delegation token from proctor's token endpoint"
        )
        return JSONResponse(
            {"error": "invalid_token" if problem else "unauthorized", "message": message},
            status_code=401,
            headers={"WWW-Authenticate": challenge},
        )

    def _caller(self, request: Request) -> tuple[Caller, str] | Response:
        """The request's caller, and the client its sessions count against."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        address = request.client.host if request.client is not None else "unknown"
        if scheme.lower() != "bearer" or not token.strip():
            if self.needs_token:
                return self._unauthorized(request, None)
            return self.proxy.caller, f"address {address}"
        identity = self.proxy.proctor.runtime.identity
        if identity is None:
            return self._unauthorized(request, "this proxy verifies no tokens")
        try:
            delegation = identity.verify(token.strip())
        except ProctorError as exc:
            return self._unauthorized(request, exc.message)
        agent = delegation.actors[0] if delegation.actors else ""
        return Caller(token=token.strip()), f"user {delegation.subject} agent {agent}"

    # -- the MCP endpoint --------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        problem = rebinding_problem(request, self.allowed_hosts)
        if problem is not None:
            return _plain(403, problem)
        found = self._caller(request)
        if isinstance(found, Response):
            return found
        caller, client = found
        problem = protocol_version_problem(request)
        if problem is not None:
            return JSONResponse(error_response(None, INVALID_REQUEST, problem), status_code=400)
        if request.method == "POST":
            return await self._post(request, caller, client)
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            return _plain(400, f"missing the `{SESSION_HEADER}` header")
        session = self._session_of(client, session_id)
        if session is None:
            return _plain(404, "no such session")
        if request.method == "DELETE":
            self.sessions.pop(session.id, None)
            await session.close()
            return Response(status_code=204)
        return self._get(request, session)

    def _session_of(self, client: str, session_id: str) -> HttpSession | None:
        """The open session ``session_id`` if ``client`` opened it: a session id that leaked
        (a log, a shared proxy) is no key to another user's or agent's session, and
        another's session is answered as if it did not exist."""
        session = self.sessions.get(session_id)
        if session is None or session.closed or session.client != client:
            return None
        return session

    def _get(self, request: Request, session: HttpSession) -> Response:
        """The session's stream, or the rest of the stream a ``Last-Event-ID`` names."""
        session.touch()
        last = request.headers.get("last-event-id")
        if last is None:
            stream = session.session_stream
            return self._sse(session, stream, stream.delivered, listening=True)
        where = parse_event_id(last)
        resumed = session.streams.get(where[0]) if where is not None else None
        if where is None or resumed is None:
            return _plain(400, f"no stream to resume from `Last-Event-ID` `{last[:100]}`")
        return self._sse(session, resumed, where[1], listening=resumed is session.session_stream)

    async def _post(self, request: Request, caller: Caller, client: str) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _plain(413, "the message is too large")
        try:
            message = parse(body)
        except ValueError:
            return JSONResponse(error_response(None, -32700, "parse error"), status_code=400)
        if not isinstance(message, dict):
            return JSONResponse(
                error_response(None, INVALID_REQUEST, "send one JSON-RPC message per request"),
                status_code=400,
            )
        problem = envelope_problem(message)
        if problem is not None:
            return JSONResponse(problem, status_code=400)
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            if message.get("method") == "initialize" and "id" in message:
                return await self._initialize(request, message, caller, client)
            text = (
                f"missing the `{SESSION_HEADER}` header: this endpoint opens sessions "
                "with `initialize`"
            )
            return JSONResponse(
                error_response(message.get("id"), INVALID_REQUEST, text), status_code=400
            )
        session = self._session_of(client, session_id)
        if session is None:
            return _plain(404, "no such session")
        return await self._relay(request, session, message, caller)

    async def _initialize(
        self, request: Request, message: Message, caller: Caller, client: str
    ) -> Response:
        if not await self._room_for(client):
            text = f"{self.sessions_per_client} sessions of this client are all busy"
            return _plain(429, text)
        if len(self.sessions) >= MAX_SESSIONS:
            await self.expire_idle()
            if len(self.sessions) >= MAX_SESSIONS:
                return _plain(503, "too many sessions")
        session = HttpSession(self.proxy, caller, client, self.timeouts.call)
        try:
            await session.start()
        except ProctorError as exc:
            return JSONResponse(error_response(message["id"], -32603, exc.message))
        self.sessions[session.id] = session
        session.handshake_id = message["id"]
        return await self._relay(request, session, message, caller)

    async def _room_for(self, client: str) -> bool:
        """Below the client's cap, after ending its least recently used idle session if need be."""
        own = [s for s in self.sessions.values() if s.client == client and not s.closed]
        if len(own) < self.sessions_per_client:
            return True
        idle = sorted((s for s in own if not s.busy), key=lambda s: s.last_used)
        if not idle:
            return False
        oldest = idle[0]
        log.info("session %.8s… ended: its client opened more than %d", oldest.id, len(own))
        self.sessions.pop(oldest.id, None)
        await oldest.close()
        return True

    async def _relay(
        self, request: Request, session: HttpSession, message: Message, caller: Caller
    ) -> Response:
        relay = session.relay
        assert relay is not None
        session.touch()
        who = replace(caller, run_id=session.caller.run_id)
        if not is_request(message):
            await relay.from_client(message, who)
            if message.get("method") == "notifications/cancelled":
                params = message.get("params")
                cancelled = params.get("requestId") if isinstance(params, dict) else None
                if id_problem(cancelled) is None:
                    session.end_stream(cancelled)
            return Response(status_code=202)
        stream = session.open_stream(message)
        if stream is None:
            text = f"request id `{message['id']}` is already in flight in this session"
            return JSONResponse(
                error_response(message["id"], INVALID_REQUEST, text),
                headers={SESSION_HEADER: session.id},
            )
        try:
            await relay.from_client(message, who)
        except Exception:
            session.drop_stream(message["id"])
            raise
        if "text/event-stream" in request.headers.get("accept", ""):
            return self._sse(session, stream, 0)
        items = [item async for _, item in stream.follow(0)]  # plain JSON: the response only
        final = final_answer(items, message["id"])
        if final is None:
            return _plain(502, "no answer: the request was cancelled or the upstream closed")
        return JSONResponse(final, headers={SESSION_HEADER: session.id})

    def _sse(
        self, session: HttpSession, stream: EventStream, after: int, *, listening: bool = False
    ) -> StreamingResponse:
        async def events() -> AsyncIterator[tuple[int, Message]]:
            if listening:
                session.listening += 1
            try:
                async for item in stream.follow(after):
                    yield item
            finally:
                if listening:
                    session.listening -= 1
                session.touch()

        # a session's first stream is its `initialize`: the version it negotiates is not
        # known until the answer, and a client older than 2025-11-25 must get no priming
        body = encoded(stream, after, prime=primes(session.protocol_version), events=events())
        return StreamingResponse(
            body,
            media_type="text/event-stream",
            headers={SESSION_HEADER: session.id, "Cache-Control": "no-cache"},
        )


def _plain(status: int, text: str) -> Response:
    return JSONResponse({"error": text}, status_code=status)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")
