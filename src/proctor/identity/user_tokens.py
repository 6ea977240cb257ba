"""Verifying the IdP's user tokens (OIDC / JWT access tokens) and mapping claims to scopes.

Checks, in order: the token's shape, an accepted asymmetric ``alg``, a trusted
``iss`` (the dev issuer only when allowed), a known ``kid`` in the issuer's
JWKS, the signature, ``exp``/``nbf``/``iat`` with leeway, ``aud`` and ``sub``.
Each failure raises ``TokenRejected`` with its own code.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.identity import jose
from proctor.identity.errors import (
    TOKEN_DEV_REFUSED,
    TOKEN_UNKNOWN_KID,
    TOKEN_WRONG_ISSUER,
    TokenRejected,
)
from proctor.identity.jwks import JwksCache
from proctor.identity.keys import DEV_ISSUER
from proctor.model.actions import InvalidPattern, parse_pattern
from proctor.model.request import User

# claims copied into the user's record (never the token itself)
_KEPT_CLAIMS = ("email", "name", "tenant", "groups", "roles", "iss")


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """How an issuer's claims become proctor scopes.

    ``scope_claims`` hold scopes directly (``scope``: space-separated string,
    ``scp``: list or string); ``group_claims`` hold group or role names that
    ``group_scopes`` maps to scopes. Values that are not action patterns
    (``openid``, ``profile``) are dropped only when they contain no ``:``.
    """

    scope_claims: tuple[str, ...] = ("scope", "scp")
    group_claims: tuple[str, ...] = ("groups", "roles")
    group_scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def scopes(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        found: list[str] = []
        for name in self.scope_claims:
            found.extend(_words(claims.get(name)))
        for name in self.group_claims:
            for group in _words(claims.get(name)):
                found.extend(self.group_scopes.get(group, ()))
        kept: list[str] = []
        for scope in dict.fromkeys(found):
            if ":" not in scope and scope != "*":
                continue  # OIDC scopes such as `openid` are not action patterns
            try:
                parse_pattern(scope)
            except InvalidPattern:
                continue
            kept.append(scope)
        return tuple(kept)


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One IdP: its ``iss``, the audiences proctor accepts, its keys and claim mapping."""

    issuer: str
    audiences: frozenset[str]
    keys: JwksCache
    algorithms: frozenset[str] = frozenset({"RS256", "ES256", "EdDSA"})
    mapping: ClaimMapping = field(default_factory=ClaimMapping)


@dataclass(frozen=True, slots=True)
class VerifiedUser:
    """A user token that passed every check: the user, its issuer and expiry."""

    user: User
    issuer: str
    expires_at: int
    claims: Mapping[str, Any]


class UserTokenVerifier:
    """Verifies user tokens from the trusted issuers; ``now`` is passed in (seconds)."""

    def __init__(
        self,
        issuers: Collection[TrustedIssuer],
        *,
        leeway: float = 30.0,
        allow_dev: bool = False,
    ) -> None:
        self._issuers = {issuer.issuer: issuer for issuer in issuers}
        self._leeway = leeway
        self._allow_dev = allow_dev

    @property
    def issuers(self) -> Collection[str]:
        return self._issuers.keys()

    def verify(self, token: str, now: float) -> VerifiedUser:
        header, unverified = jose.split_token(token)
        iss = unverified.get("iss")
        if iss == DEV_ISSUER and not self._allow_dev:
            raise TokenRejected(
                "dev tokens (issuer `urn:proctor:dev`) are refused: "
                "set `identity.allow_dev_tokens: true` for local use only",
                code=TOKEN_DEV_REFUSED,
            )
        trusted = self._issuers.get(iss) if isinstance(iss, str) else None
        if trusted is None:
            raise TokenRejected(f"issuer `{iss}` is not trusted", code=TOKEN_WRONG_ISSUER)
        alg = jose.require_algorithm(header, trusted.algorithms)
        kid = header.get("kid")
        key = trusted.keys.key(kid if isinstance(kid, str) else None)
        if key is None:
            raise TokenRejected(
                f"key id `{kid}` is not in the JWKS of `{trusted.issuer}`", code=TOKEN_UNKNOWN_KID
            )
        jose.verify_signature(token, key, alg)
        claims = unverified  # the signature covers exactly these bytes
        expires_at = jose.check_times(claims, now, self._leeway)
        jose.check_audience(claims, trusted.audiences)
        sub = jose.require_string(claims, "sub")
        kept = {name: claims[name] for name in _KEPT_CLAIMS if name in claims}
        user = User(sub, trusted.mapping.scopes(claims), kept)
        return VerifiedUser(user, trusted.issuer, expires_at, claims)
