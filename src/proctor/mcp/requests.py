"""``RequestIds``: the ids of one session's requests towards its upstream are the proxy's own.

The client's ids never reach the server: each request gets the next integer,
mapped back to the client's id when the server answers. So an answer is tied
to the one request the proxy sent, whatever ids the client reuses, and an
answer the proxy cannot tie to a request in flight (an id it never sent, a
request the client cancelled, a second answer) is dropped rather than passed
on unlooked-at. A client id is in flight at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_IN_FLIGHT = 4096  # requests of one session awaiting their answer


@dataclass(slots=True)
class _Slot(Generic[T]):
    client_id: Any  # None for the proxy's own requests
    value: T | None = None
    sent: bool = False


class RequestIds(Generic[T]):
    def __init__(self) -> None:
        self._last = 0
        self._slots: dict[int, _Slot[T]] = {}
        self._by_client: dict[Any, int] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def in_flight(self, client_id: Any) -> bool:
        return client_id in self._by_client

    def reserve(self, client_id: Any) -> int:
        """An upstream id for the client's request, before it is checked (nothing is sent yet)."""
        assert client_id is not None
        assert client_id not in self._by_client
        upstream_id = self._next()
        self._slots[upstream_id] = _Slot(client_id)
        self._by_client[client_id] = upstream_id
        return upstream_id

    def own(self, value: T) -> int:
        """An upstream id for a request of the proxy's own; its answer never goes downstream."""
        upstream_id = self._next()
        self._slots[upstream_id] = _Slot(None, value, sent=True)
        return upstream_id

    def send(self, upstream_id: int, value: T | None) -> bool:
        """Mark a reserved request as sent with what its answer needs; False if it was cancelled."""
        slot = self._slots.get(upstream_id)
        if slot is None:
            return False
        slot.value, slot.sent = value, True
        return True

    def release(self, upstream_id: int) -> None:
        """Forget a request that was not sent (refused) or whose answer is no longer awaited."""
        slot = self._slots.pop(upstream_id, None)
        if slot is not None and self._by_client.get(slot.client_id) == upstream_id:
            del self._by_client[slot.client_id]

    def answer(self, upstream_id: Any) -> tuple[Any, T | None] | None:
        """(the client's id, the request's value) for an answer, once; None: drop the answer."""
        if isinstance(upstream_id, bool) or not isinstance(upstream_id, int):
            return None
        slot = self._slots.get(upstream_id)
        if slot is None or not slot.sent:
            return None
        self.release(upstream_id)
        return slot.client_id, slot.value

    def abandon(self) -> list[tuple[Any, T | None]]:
        """Every request in flight, forgotten: ``(client id or None, value)`` each."""
        found = [(slot.client_id, slot.value) for slot in self._slots.values()]
        self._slots.clear()
        self._by_client.clear()
        return found

    def cancel(self, client_id: Any) -> int | None:
        """The upstream id of a client request the client cancels; its answer will be dropped."""
        upstream_id = self._by_client.get(client_id)
        if upstream_id is None:
            return None
        sent = self._slots[upstream_id].sent
        self.release(upstream_id)
        return upstream_id if sent else None

    def _next(self) -> int:
        self._last += 1
        return self._last
