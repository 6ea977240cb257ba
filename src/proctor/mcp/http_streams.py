"""Resumable SSE streams of the HTTP front (MCP 2025-11-25, "Transports": resumability).

Every event the front sends carries an ``id:`` naming its stream and its place
in it (``r3.2``: the second event of request stream ``r3``). A stream's events
are kept after they are sent, so a client whose connection breaks reconnects
with ``GET`` and ``Last-Event-ID`` and gets what it missed, then the rest of
that stream: the request it belongs to goes on while nobody is connected. A
session at 2025-11-25 or later also gets a priming event first (an id and no
data) with a ``retry:`` hint, so it can resume even before the first message.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from proctor.mcp.jsonrpc import Message

RETRY_MILLISECONDS = 1000
# The versions whose clients skip an event without data (older ones would parse it).
_PRIMED_FROM = "2025-11-25"


class EventStream:
    """One stream's events, in order, the last ``limit`` of them kept for a reconnection."""

    def __init__(self, key: str, limit: int) -> None:
        self.key = key
        self.done = False
        self.delivered = 0  # the last event a connection was given (the GET stream's start)
        self._events: deque[tuple[int, Message]] = deque(maxlen=limit)
        self._count = 0
        self._changed = asyncio.Event()

    def add(self, message: Message) -> None:
        if self.done:
            return
        self._count += 1
        self._events.append((self._count, message))
        self._wake()

    def finish(self) -> None:
        self.done = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def event_id(self, number: int) -> str:
        return f"{self.key}.{number}"

    async def follow(self, after: int) -> AsyncIterator[tuple[int, Message]]:
        """The events after number ``after``, then each new one until the stream is done."""
        while True:
            changed = self._changed  # taken before reading: an event added later wakes it
            for number, message in list(self._events):
                if number > after:
                    after = number
                    self.delivered = max(self.delivered, number)
                    yield number, message
            if self.done:
                return
            await changed.wait()


def parse_event_id(value: str) -> tuple[str, int] | None:
    """``(stream key, event number)`` of a ``Last-Event-ID``; None when it is none of ours."""
    key, _, number = value.strip().rpartition(".")
    if not key or not number.isdigit() or len(number) > 12:
        return None
    return key, int(number)


def primes(protocol_version: str | None) -> bool:
    return protocol_version is not None and protocol_version >= _PRIMED_FROM


async def encoded(
    stream: EventStream, after: int, *, prime: bool, events: AsyncIterator[tuple[int, Message]]
) -> AsyncIterator[bytes]:
    """The SSE wire form of ``events`` (read from ``stream``), a priming event first."""
    if prime:
        yield f"id: {stream.event_id(after)}\nretry: {RETRY_MILLISECONDS}\ndata: \n\n".encode()
    async for number, message in events:
        yield (
            f"id: {stream.event_id(number)}\nevent: message\ndata: ".encode()
            + json.dumps(message).encode()
            + b"\n\n"
        )


def answers(message: Message, request_id: Any) -> bool:
    return "method" not in message and message.get("id") == request_id
