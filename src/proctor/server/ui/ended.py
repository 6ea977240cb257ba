"""Dashboard sessions signed out before their cookie expires: a copy of the cookie is refused.

The cookie is the whole session (signed, kept by the browser), so clearing it
at sign-out does not stop a copy taken earlier. Each session carries a random
id; signing out records the id as ended until the session would have expired
anyway. With ``identity:`` configured the id goes into the store's revocation
list (every process sharing the store refuses it within its refresh, this one
at once); without, this process remembers it until it restarts.
"""

from __future__ import annotations

import threading

from proctor.server.state import GatewayState

_PREFIX = "ui-session:"  # beside delegation tokens' jti values in the store, never one of them


class EndedSessions:
    """The ids of signed-out sessions, each kept until ``until`` (a Unix time)."""

    def __init__(self, state: GatewayState) -> None:
        identity = state.runtime.identity
        self._shared = identity.revocations if identity is not None else None
        self._local: dict[str, int] = {}
        self._lock = threading.Lock()

    def end(self, session_id: str, until: int, now: float) -> None:
        if self._shared is not None:
            self._shared.revoke(_PREFIX + session_id, until, "signed out of the dashboard")
            return
        with self._lock:
            self._local = {key: end for key, end in self._local.items() if end > now}
            self._local[session_id] = until

    def ended(self, session_id: str, now: float) -> bool:
        if self._shared is not None:
            return self._shared.is_revoked(_PREFIX + session_id, now)
        with self._lock:
            return session_id in self._local
