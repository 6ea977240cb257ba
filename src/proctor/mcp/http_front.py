"""The Streamable HTTP front (MCP 2025-06-18 "Streamable HTTP" transport) on one endpoint.

* ``POST /mcp``: one JSON-RPC message. ``initialize`` opens a session (its
  own upstream, its own run) and answers with ``Mcp-Session-Id``; a request
  is answered on an SSE stream that carries its progress and the server's
  messages, then its response (plain JSON when the client accepts no SSE);
  notifications and responses get 202.
* ``GET /mcp``: the session's stream of server messages no request carries.
* ``DELETE /mcp``: ends the session and stops its upstream.

Identity: each request's bearer token (a delegation token) is the caller of
that request. The proxy is an OAuth 2.0 protected resource: without a valid
token it answers 401 with ``WWW-Authenticate`` pointing at its metadata
(RFC 9728 §5.1), served at ``/.well-known/oauth-protected-resource``. Without
an ``identity:`` section in the config, requests carry no token and the
environment's agent is the caller (local use only).

Sessions are handshake-era: ``server/discover`` without a session is answered
"method not found", which makes a newer client fall back to ``initialize``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from proctor.errors import ProctorError
from proctor.mcp.gate import Caller
from proctor.mcp.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    Message,
    envelope_problem,
    error_response,
    id_problem,
    is_request,
)
from proctor.mcp.proxy import Proxy
from proctor.mcp.sessions import ClientSession, open_session

log = logging.getLogger("proctor.mcp")

SESSION_HEADER = "mcp-session-id"
ENDPOINT = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource"
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_SESSIONS = 256
_STRAY_LIMIT = 1000  # server messages buffered for a GET stream nobody opened yet
_POLL_SECONDS = 0.05
REQUEST_TIMED_OUT = -32001  # an implementation-defined server error (JSON-RPC 2.0)


class HttpSession:
    """One MCP session: its relay, its upstream, and where the server's messages go."""

    def __init__(self, proxy: Proxy, caller: Caller) -> None:
        self.id = secrets.token_urlsafe(24)
        self.proxy = proxy
        self.caller = caller.in_run()
        self.relay: ClientSession | None = None
        self._streams: dict[Any, asyncio.Queue[Message]] = {}  # open requests, by id
        self._progress: dict[Any, Any] = {}  # progress token -> request id
        self.stray: asyncio.Queue[Message] = asyncio.Queue(_STRAY_LIMIT)
        self.listening = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_used = asyncio.get_running_loop().time()

    def touch(self) -> None:
        self.last_used = asyncio.get_running_loop().time()

    @property
    def busy(self) -> bool:
        """A request of this session is waiting for its answer."""
        return bool(self._streams)

    async def start(self) -> None:
        """Start the upstream in a task of its own (it is opened and closed there)."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(ready))
        await ready

    async def _run(self, ready: asyncio.Future[None]) -> None:
        try:
            self.relay, channels = await open_session(
                self.proxy.gate, self.proxy.upstreams, self._deliver, self.caller
            )
        except Exception as exc:
            ready.set_exception(exc)
            return
        ready.set_result(None)
        pump = asyncio.create_task(self.relay.pump())
        stop = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([pump, stop], return_when=asyncio.FIRST_COMPLETED)
        finally:
            pump.cancel()
            stop.cancel()
            for channel in channels:
                await channel.close()
            self._stop.set()
            for queue in self._streams.values():
                queue.put_nowait({"_closed": True})

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def open_stream(self, message: Message) -> asyncio.Queue[Message] | None:
        """The queue of a request's answer; None when a request with its id is in flight."""
        if message["id"] in self._streams:
            return None
        queue: asyncio.Queue[Message] = asyncio.Queue()
        self._streams[message["id"]] = queue
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        if isinstance(meta, dict) and meta.get("progressToken") is not None:
            self._progress[meta["progressToken"]] = message["id"]
        return queue

    def end_stream(self, request_id: Any) -> None:
        """A request the client cancelled: no answer will come, its stream ends now."""
        queue = self._streams.get(request_id)
        if queue is not None:
            queue.put_nowait({"_closed": True, "_cancelled": True})

    def close_stream(self, request_id: Any) -> None:
        self._streams.pop(request_id, None)
        for token in [t for t, rid in self._progress.items() if rid == request_id]:
            del self._progress[token]

    async def _deliver(self, message: Message) -> None:
        """Route a message for the client: to its request's stream, else to the GET stream."""
        target: asyncio.Queue[Message] | None = None
        if "method" not in message and "id" in message:
            target = self._streams.get(message["id"])
        elif message.get("method") == "notifications/progress":
            params = message.get("params") or {}
            owner = self._progress.get(params.get("progressToken"))
            target = self._streams.get(owner) if owner is not None else None
        if target is None and not self.listening and self._streams:
            target = next(reversed(self._streams.values()))  # the latest open request
        if target is not None:
            target.put_nowait(message)
            return
        try:
            self.stray.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("dropped a server message: no stream is open to carry it")


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
    ) -> None:
        self.proxy = proxy
        self.resource_url = resource_url
        self.timeouts = timeouts or HttpTimeouts()
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

    def _caller(self, request: Request) -> Caller | Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if self.needs_token:
                return self._unauthorized(request, None)
            return self.proxy.caller
        identity = self.proxy.proctor.runtime.identity
        if identity is None:
            return self._unauthorized(request, "this proxy verifies no tokens")
        try:
            identity.verify(token.strip())
        except ProctorError as exc:
            return self._unauthorized(request, exc.message)
        return Caller(token=token.strip())

    # -- the MCP endpoint --------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        if request.method == "POST":
            return await self._post(request, caller)
        session = self.sessions.get(request.headers.get(SESSION_HEADER, ""))
        if session is None or session.closed:
            return _plain(404, "no such session")
        if request.method == "DELETE":
            self.sessions.pop(session.id, None)
            await session.close()
            return Response(status_code=204)
        return _sse(self._listen(session), session.id)

    async def _post(self, request: Request, caller: Caller) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _plain(413, "the message is too large")
        try:
            message = json.loads(body)
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
                return await self._initialize(request, message, caller)
            if is_request(message):
                return JSONResponse(
                    error_response(
                        message["id"],
                        METHOD_NOT_FOUND,
                        "this endpoint opens sessions with `initialize`",
                    )
                )
            return _plain(400, f"missing the `{SESSION_HEADER}` header")
        session = self.sessions.get(session_id)
        if session is None or session.closed:
            return _plain(404, "no such session")
        return await self._relay(request, session, message, caller)

    async def _initialize(self, request: Request, message: Message, caller: Caller) -> Response:
        if len(self.sessions) >= MAX_SESSIONS:
            await self.expire_idle()
            if len(self.sessions) >= MAX_SESSIONS:
                return _plain(503, "too many sessions")
        session = HttpSession(self.proxy, caller)
        try:
            await session.start()
        except ProctorError as exc:
            return JSONResponse(error_response(message["id"], -32603, exc.message))
        self.sessions[session.id] = session
        return await self._relay(request, session, message, caller)

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
        queue = session.open_stream(message)
        if queue is None:
            text = f"request id `{message['id']}` is already in flight in this session"
            return JSONResponse(
                error_response(message["id"], INVALID_REQUEST, text),
                headers={SESSION_HEADER: session.id},
            )
        try:
            await relay.from_client(message, who)
        except Exception:
            session.close_stream(message["id"])
            raise
        events = self._answer(session, message["id"], queue)
        if "text/event-stream" in request.headers.get("accept", ""):
            return _sse(events, session.id)
        final: Message | None = None
        async for item in events:  # plain JSON: only the response itself
            if "method" not in item and item.get("id") == message["id"]:
                final = item
        if final is None:
            return _plain(502, "no answer: the request was cancelled or the upstream closed")
        return JSONResponse(final, headers={SESSION_HEADER: session.id})

    async def _answer(
        self, session: HttpSession, request_id: Any, queue: asyncio.Queue[Message]
    ) -> AsyncIterator[Message]:
        """The request's messages, its answer last; an error answer when none comes within
        the call timeout (the upstream is told to cancel) or the session ends first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeouts.call
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    await self._cancel_upstream(session, request_id)
                    text = (
                        f"no answer from the upstream server within {self.timeouts.call:g} s "
                        "(`--call-timeout`)"
                    )
                    yield error_response(request_id, REQUEST_TIMED_OUT, text)
                    return
                if item.get("_closed"):
                    if not item.get("_cancelled"):
                        text = "the session ended before the upstream server answered"
                        yield error_response(request_id, INTERNAL_ERROR, text)
                    return
                yield item
                if "method" not in item and item.get("id") == request_id:
                    return
        finally:
            session.close_stream(request_id)
            session.touch()

    async def _cancel_upstream(self, session: HttpSession, request_id: Any) -> None:
        """The client's side of a timed-out request: the upstream's late answer is dropped."""
        if session.relay is None or session.closed:
            return
        cancel = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": request_id, "reason": "timed out in the proxy"},
        }
        with contextlib.suppress(Exception):
            await session.relay.from_client(cancel, session.caller)

    async def _listen(self, session: HttpSession) -> AsyncIterator[Message]:
        session.listening = True
        try:
            while not session.closed:
                try:
                    yield await asyncio.wait_for(session.stray.get(), timeout=_POLL_SECONDS * 20)
                except TimeoutError:
                    continue
        finally:
            session.listening = False


def _sse(events: AsyncIterator[Message], session_id: str) -> StreamingResponse:
    async def encoded() -> AsyncIterator[bytes]:
        async for item in events:
            yield b"event: message\ndata: " + json.dumps(item).encode() + b"\n\n"

    return StreamingResponse(
        encoded(),
        media_type="text/event-stream",
        headers={SESSION_HEADER: session_id, "Cache-Control": "no-cache"},
    )


def _plain(status: int, text: str) -> Response:
    return JSONResponse({"error": text}, status_code=status)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")
