"""One session of the HTTP front: its relay and upstream, and the streams that carry its messages.

A request's stream (``r1``, ``r2``...) is fed by the upstream's messages for
it and ends with its answer; the session's own stream (``g``) carries what no
request does and is read by ``GET``. Streams live in the session, not in an
HTTP response, so a request goes on when its client's connection breaks and
a reconnection (``Last-Event-ID``) picks it up (``http_streams``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from typing import Any

from proctor.mcp.gate import Caller
from proctor.mcp.http_streams import EventStream, answers
from proctor.mcp.jsonrpc import INTERNAL_ERROR, Message, error_response
from proctor.mcp.proxy import Proxy
from proctor.mcp.sessions import ClientSession, open_session

log = logging.getLogger("proctor.mcp")

SESSION_STREAM = "g"
_SESSION_STREAM_LIMIT = 1000  # server messages kept for the GET stream
_REQUEST_STREAM_LIMIT = 10_000  # messages kept per request (progress, logs, its answer)
_KEPT_STREAMS = 64  # ended request streams kept for a late reconnection
REQUEST_TIMED_OUT = -32001  # an implementation-defined server error (JSON-RPC 2.0)


class HttpSession:
    """One MCP session: its relay, its upstream, and where the server's messages go."""

    def __init__(self, proxy: Proxy, caller: Caller, client: str, call_timeout: float) -> None:
        self.id = secrets.token_urlsafe(24)
        self.proxy = proxy
        self.caller = caller.in_run()
        self.client = client  # whose session this is, for the per-client cap
        self.call_timeout = call_timeout
        self.relay: ClientSession | None = None
        self.protocol_version: str | None = None
        self.handshake_id: Any = None
        self.streams: dict[str, EventStream] = {
            SESSION_STREAM: EventStream(SESSION_STREAM, _SESSION_STREAM_LIMIT)
        }
        self._requests: dict[Any, EventStream] = {}  # requests awaiting their answer, by id
        self._progress: dict[Any, Any] = {}  # progress token -> request id
        self._numbers = itertools.count(1)
        self._watches: set[asyncio.Task[None]] = set()
        self.listening = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_used = asyncio.get_running_loop().time()

    @property
    def session_stream(self) -> EventStream:
        return self.streams[SESSION_STREAM]

    def touch(self) -> None:
        self.last_used = asyncio.get_running_loop().time()

    @property
    def busy(self) -> bool:
        """A request of this session is waiting for its answer."""
        return bool(self._requests)

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
            for watch in self._watches:
                watch.cancel()
            text = "the session ended before the upstream server answered"
            for request_id in list(self._requests):
                self._answer(request_id, error_response(request_id, INTERNAL_ERROR, text))
            self.session_stream.finish()

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def open_stream(self, message: Message) -> EventStream | None:
        """The stream of a request's answer; None when a request with its id is in flight."""
        request_id = message["id"]
        if request_id in self._requests:
            return None
        stream = EventStream(f"r{next(self._numbers)}", _REQUEST_STREAM_LIMIT)
        self._requests[request_id] = stream
        self.streams[stream.key] = stream
        self._forget_old_streams()
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        token = _progress_token(meta)
        if token is not None:
            self._progress[token] = request_id
        watch = asyncio.create_task(self._watch(request_id, stream))
        self._watches.add(watch)
        watch.add_done_callback(self._watches.discard)
        return stream

    def _forget_old_streams(self) -> None:
        ended = [key for key, stream in self.streams.items() if stream.done]
        for key in ended[: max(0, len(ended) - _KEPT_STREAMS)]:
            del self.streams[key]

    def end_stream(self, request_id: Any) -> None:
        """A request the client cancelled: no answer will come, its stream ends now."""
        stream = self._requests.pop(request_id, None)
        if stream is not None:
            self._forget_progress(request_id)
            stream.finish()

    def drop_stream(self, request_id: Any) -> None:
        """A request that never reached the upstream."""
        stream = self._requests.pop(request_id, None)
        if stream is not None:
            self.streams.pop(stream.key, None)
            self._forget_progress(request_id)
            stream.finish()

    def _forget_progress(self, request_id: Any) -> None:
        for token in [t for t, rid in self._progress.items() if rid == request_id]:
            del self._progress[token]

    def _answer(self, request_id: Any, message: Message) -> None:
        stream = self._requests.pop(request_id, None)
        if stream is None:
            return
        self._forget_progress(request_id)
        stream.add(message)
        stream.finish()
        self.touch()

    async def _watch(self, request_id: Any, stream: EventStream) -> None:
        """An error answer when none comes within the call timeout (the upstream is told
        to cancel), whether or not the client is still connected."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until_done(stream), self.call_timeout)
        if stream.done or self._requests.get(request_id) is not stream:
            return
        await self._cancel_upstream(request_id)
        text = (
            f"no answer from the upstream server within {self.call_timeout:g} s (`--call-timeout`)"
        )
        self._answer(request_id, error_response(request_id, REQUEST_TIMED_OUT, text))

    @staticmethod
    async def _until_done(stream: EventStream) -> None:
        async for _ in stream.follow(2**62):
            pass

    async def _cancel_upstream(self, request_id: Any) -> None:
        """The client's side of a timed-out request: the upstream's late answer is dropped."""
        if self.relay is None or self.closed:
            return
        cancel = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": request_id, "reason": "timed out in the proxy"},
        }
        with contextlib.suppress(Exception):
            await self.relay.from_client(cancel, self.caller)

    async def _deliver(self, message: Message) -> None:
        """Route a message for the client: to its request's stream, else to the GET stream."""
        if "method" not in message and "id" in message:
            if message["id"] == self.handshake_id and self.protocol_version is None:
                result = message.get("result")
                version = result.get("protocolVersion") if isinstance(result, dict) else None
                self.protocol_version = version if isinstance(version, str) else None
            if message["id"] in self._requests:
                self._answer(message["id"], message)
                return
        target: EventStream | None = None
        if message.get("method") == "notifications/progress":
            token = _progress_token(message.get("params"))
            owner = self._progress.get(token) if token is not None else None
            target = self._requests.get(owner) if owner is not None else None
        if target is None and not self.listening and self._requests:
            target = next(reversed(self._requests.values()))  # the latest open request
        (target or self.session_stream).add(message)


def final_answer(items: list[Message], request_id: Any) -> Message | None:
    return next((item for item in reversed(items) if answers(item, request_id)), None)


def _progress_token(holder: Any) -> str | int | float | None:
    """``holder["progressToken"]`` (a request's ``_meta``, a progress notification's params)
    when it is one (MCP: a string or a number), else None: anything else (a list, an
    object) cannot key the progress table, and no request of this session had it."""
    token = holder.get("progressToken") if isinstance(holder, dict) else None
    if isinstance(token, bool) or not isinstance(token, str | int | float):
        return None
    return token
