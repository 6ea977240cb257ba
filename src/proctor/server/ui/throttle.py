"""How many failed dashboard sign-ins a client address and a key id may make in a window.

A fixed window per counter: the first failure opens it, ``window`` seconds
long; at ``max_per_client`` failures from one address, or ``max_per_key``
against one key id (from anywhere), further attempts are refused unread until
the window ends. A successful sign-in clears both counters. Time comes from an
injected clock (seconds); nothing here reads the wall clock or sleeps.

Counters live in the process (each replica counts its own) and the table is
bounded: past ``max_entries`` the windows that have ended go first, then the
oldest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Seconds = Callable[[], float]


@dataclass(slots=True)
class _Window:
    opened: float
    failures: int


class SignInThrottle:
    def __init__(
        self,
        seconds: Seconds,
        *,
        max_per_client: int = 5,
        max_per_key: int = 10,
        window: float = 900.0,
        max_entries: int = 10_000,
    ) -> None:
        self._seconds = seconds
        self.max_per_client = max_per_client
        self.max_per_key = max_per_key
        self.window = window
        self._max_entries = max_entries
        self._windows: dict[tuple[str, str], _Window] = {}

    def retry_after(self, client: str, key_id: str) -> int:
        """Seconds until this client may try this key id again (0: it may now)."""
        now = self._seconds()
        return max(self._wait(slot, limit, now) for slot, limit in self._slots(client, key_id))

    def failed(self, client: str, key_id: str) -> bool:
        """Count a failed sign-in; True when it reached a limit (later attempts are refused)."""
        now = self._seconds()
        reached = False
        for slot, limit in self._slots(client, key_id):
            found = self._windows.get(slot)
            if found is None or now >= found.opened + self.window:
                found = self._windows[slot] = _Window(now, 0)
            found.failures += 1
            reached = reached or found.failures >= limit
        self._bound(now)
        return reached

    def succeeded(self, client: str, key_id: str) -> None:
        self._windows.pop(("client", client), None)
        self._windows.pop(("key", key_id), None)

    def _slots(self, client: str, key_id: str) -> tuple[tuple[tuple[str, str], int], ...]:
        return (("client", client), self.max_per_client), (("key", key_id), self.max_per_key)

    def _wait(self, slot: tuple[str, str], limit: int, now: float) -> int:
        found = self._windows.get(slot)
        if found is None or found.failures < limit:
            return 0
        left = found.opened + self.window - now
        return max(0, int(left) + (left % 1 > 0))

    def _bound(self, now: float) -> None:
        if len(self._windows) <= self._max_entries:
            return
        for slot in [s for s, w in self._windows.items() if now >= w.opened + self.window]:
            del self._windows[slot]
        while len(self._windows) > self._max_entries:
            del self._windows[next(iter(self._windows))]
