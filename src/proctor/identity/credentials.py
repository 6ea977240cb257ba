"""Agent credentials for the token exchange's ``actor_token``.

Two kinds:

* API keys, ``pk_<key id>_<secret>``: 32 random bytes of secret, shown once,
  stored as SHA-256 (a fast hash is enough for a high-entropy random secret;
  it is not a password) and compared in constant time.
* Signed client assertions, ``private_key_jwt`` (RFC 7523 §3, RFC 7521 §4.2):
  a JWT the agent signs with its own key, ``iss`` = ``sub`` = the agent id,
  ``aud`` = proctor's issuer, short ``exp``, a ``jti`` used once (RFC 7523
  §3 item 7). "Once" holds across processes and replicas and over restarts:
  each used ``jti`` is recorded in the shared state store (``AssertionUses``)
  until its assertion could no longer pass the ``exp`` check, and the record is
  made before the assertion is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from jwt.api_jwk import PyJWK

from proctor.identity import jose
from proctor.identity.errors import (
    TOKEN_BAD_SIGNATURE,
    TOKEN_MALFORMED,
    TOKEN_REVOKED,
    TOKEN_UNKNOWN_ACTOR,
    TOKEN_UNKNOWN_KID,
    TOKEN_WRONG_ISSUER,
    TokenRejected,
)
from proctor.identity.exchange import API_KEY_TOKEN_TYPE, JWT_TOKEN_TYPE

API_KEY_PREFIX = "pk_"
MAX_ASSERTION_LIFETIME = 300
MAX_JTI_LENGTH = 256  # a stored row per assertion: ids are kept short

# (issuer, jti, keep until, now) -> True the first time, False when already used;
# the identity store's ``use_assertion``, shared by every process on the state store
AssertionUses = Callable[[str, str, int, int], bool]


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What the store keeps of an API key: never the key itself."""

    key_id: str
    agent_id: str
    digest: str


def new_api_key(agent_id: str) -> tuple[str, ApiKeyRecord]:
    """A fresh key (to show once) and the record to store."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}{key_id}_{secret}"
    return key, ApiKeyRecord(key_id, agent_id, api_key_digest(key))


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_key_id(key: str) -> str | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    key_id, separator, secret = key[len(API_KEY_PREFIX) :].partition("_")
    return key_id if separator and key_id and secret else None


class ActorCredentials:
    """Authenticates an agent from an ``actor_token``; returns the agent id or rejects."""

    def __init__(
        self,
        *,
        audience: str,
        api_keys: Callable[[str], ApiKeyRecord | None],
        agent_keys: Callable[[str], Mapping[str, PyJWK]],
        used: AssertionUses,
        leeway: float = 30.0,
    ) -> None:
        self._audience = audience
        self._api_keys = api_keys
        self._agent_keys = agent_keys
        self._used = used
        self._leeway = leeway

    def __call__(self, token: str, token_type: str, now: float) -> str:
        if token_type == API_KEY_TOKEN_TYPE:
            return self.api_key(token)
        if token_type == JWT_TOKEN_TYPE:
            return self.client_assertion(token, now)
        raise TokenRejected(
            f"actor token type `{token_type}` is not supported", code=TOKEN_MALFORMED
        )

    def api_key(self, key: str) -> str:
        key_id = parse_key_id(key)
        record = self._api_keys(key_id) if key_id is not None else None
        if record is None or not hmac.compare_digest(record.digest, api_key_digest(key)):
            raise TokenRejected(
                "the API key is not valid (or was rotated or revoked)", code=TOKEN_BAD_SIGNATURE
            )
        return record.agent_id

    def client_assertion(self, token: str, now: float) -> str:
        """RFC 7523 §3: check the assertion and return its ``sub`` (the agent id)."""
        header, claims = jose.split_token(token)
        alg = jose.require_algorithm(header, jose.ASYMMETRIC_ALGORITHMS)
        agent_id = jose.require_string(claims, "sub")
        if claims.get("iss") != agent_id:
            raise TokenRejected(
                "a client assertion's `iss` must equal its `sub`", code=TOKEN_WRONG_ISSUER
            )
        keys = self._agent_keys(agent_id)
        if not keys:
            raise TokenRejected(
                f"agent `{agent_id}` has no registered public key", code=TOKEN_UNKNOWN_ACTOR
            )
        kid = header.get("kid")
        key = (
            keys.get(kid)
            if isinstance(kid, str)
            else (next(iter(keys.values())) if len(keys) == 1 else None)
        )
        if key is None:
            raise TokenRejected(
                f"key id `{kid}` is not registered for agent `{agent_id}`", code=TOKEN_UNKNOWN_KID
            )
        jose.verify_signature(token, key, alg)
        expires_at = jose.check_times(claims, now, self._leeway)
        if expires_at - now > MAX_ASSERTION_LIFETIME + self._leeway:
            raise TokenRejected(
                "a client assertion may live at most 5 minutes", code=TOKEN_MALFORMED
            )
        jose.check_audience(claims, (self._audience,))
        jti = jose.require_string(claims, "jti")
        if len(jti) > MAX_JTI_LENGTH:
            raise TokenRejected(
                f"a client assertion's `jti` may be at most {MAX_JTI_LENGTH} characters",
                code=TOKEN_MALFORMED,
            )
        # kept while `check_times` could still pass it, on any clock within the leeway
        keep_until = expires_at + math.ceil(self._leeway)
        if not self._used(agent_id, jti, keep_until, math.floor(now)):
            raise TokenRejected(f"client assertion `{jti}` was used already", code=TOKEN_REVOKED)
        return agent_id
