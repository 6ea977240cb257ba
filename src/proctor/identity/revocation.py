"""The ``jti`` deny-list: revoked delegation tokens, read through from the store.

Lookups are an in-memory set test (they run on every check); the set is
reloaded from the store at most every ``refresh_every`` seconds, so a token
revoked by another process (``proctor token revoke``) is refused within that
time, and one revoked through this list is refused at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class RevocationList:
    """Revoked ``jti`` values; ``load`` reads them from the store, ``save`` records one."""

    def __init__(
        self,
        load: Callable[[], Iterable[str]],
        save: Callable[[str, int, str], None],
        *,
        refresh_every: float = 5.0,
    ) -> None:
        self._load = load
        self._save = save
        self._refresh_every = refresh_every
        self._revoked: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def is_revoked(self, jti: str, now: float) -> bool:
        if now - self._loaded_at >= self._refresh_every or now < self._loaded_at:
            self._reload(now)
        return jti in self._revoked

    def revoke(self, jti: str, expires_at: int, reason: str) -> None:
        """Record ``jti`` as revoked until ``expires_at`` (after that it is dead anyway)."""
        self._save(jti, expires_at, reason)
        with self._lock:
            self._revoked = self._revoked | {jti}

    def expire(self) -> None:
        """Read the store again on the next lookup (another process changed it)."""
        with self._lock:
            self._loaded_at = float("-inf")

    def _reload(self, now: float) -> None:
        with self._lock:
            self._revoked = frozenset(self._load())
            self._loaded_at = now
