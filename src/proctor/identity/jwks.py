"""A JWKS (RFC 7517 §5) from a file or a URL, cached, refreshed on an unknown ``kid``.

The core does no I/O: the runtime passes ``fetch``, a callable that returns
the JWKS document (an httpx fetcher for URLs, a file reader for files) and
raises ``IdentityError`` (``jwks_unavailable``) when it cannot. Refreshes are
bounded: at most one per ``min_refresh`` seconds, however many unknown kids
arrive, so a flood of forged kids cannot turn into a flood of fetches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from jwt.api_jwk import PyJWK, PyJWKSet

from proctor.identity.errors import JWKS_UNAVAILABLE, IdentityError

JwksFetch = Callable[[], Mapping[str, Any]]


def parse_jwks(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    """Signing keys by ``kid`` (a key without a kid is filed under ``""``)."""
    try:
        keys = PyJWKSet.from_dict(dict(document)).keys
    except (jwt.PyJWKError, jwt.PyJWKSetError, KeyError, TypeError, ValueError) as exc:
        raise IdentityError(f"the JWKS is not valid: {exc}", code=JWKS_UNAVAILABLE) from exc
    return {key.key_id or "": key for key in keys if key.public_key_use in (None, "sig")}


class JwksCache:
    """The keys of one issuer; ``clock`` returns seconds (injected, like every clock here)."""

    def __init__(
        self,
        fetch: JwksFetch,
        clock: Callable[[], float],
        *,
        max_age: float = 300.0,
        min_refresh: float = 30.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._max_age = max_age
        self._min_refresh = min_refresh
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str | None) -> PyJWK | None:
        """The key with ``kid`` (or the only key, for a token without a kid); None when unknown."""
        now = self._clock()
        keys = self._keys
        if keys is None or now - self._fetched_at > self._max_age:
            keys = self._refresh(now, force=keys is None)
        found = _pick(keys, kid)
        if found is None and now - self._fetched_at >= self._min_refresh:
            found = _pick(self._refresh(now, force=False), kid)
        return found

    def _refresh(self, now: float, *, force: bool) -> dict[str, PyJWK]:
        with self._lock:
            if not force and self._keys is not None and now - self._fetched_at < self._min_refresh:
                return self._keys
            self._fetched_at = now
            self.fetches += 1
            try:
                self._keys = parse_jwks(self._fetch())
            except IdentityError:
                if self._keys is None:
                    raise
                # keep verifying with the last good keys; the next refresh retries
            return self._keys


def _pick(keys: Mapping[str, PyJWK], kid: str | None) -> PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None


def static_jwks(document: Mapping[str, Any]) -> JwksFetch:
    """A fetch that returns a fixed document (tests, and keys proctor holds itself)."""
    return lambda: document
