"""Delegation tokens: what proctor issues on a token exchange, and their verification.

A delegation token is a JWT signed with proctor's Ed25519 key (``typ`` JWT,
``alg`` EdDSA) carrying ``iss``, ``sub`` (the user), ``act`` (the agent; nested
for agent-to-agent delegation, RFC 8693 §4.1: the outermost ``act`` is the
current actor), ``aud``, ``exp``, ``iat``, ``nbf``, ``jti``, ``scope`` (RFC 8693 §4.2,
space-separated), ``tier``, ``role`` and optionally ``run_id``. A token
exchanged from another delegation token names its ancestors in
``parent_jtis``: the ``jti`` of the token it came from first, then that
token's own ``parent_jtis``, so revoking any token in a chain refuses every
token exchanged from it, at any depth, without a lookup.

``DelegationVerifier`` checks one on every call; a cache keyed by the token
string skips the signature and the parsing after the first time, never a time
check (``exp``, ``nbf``, ``iat``, the signing key's retirement), revocation
(of the token or an ancestor) or the depth bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.identity import jose
from proctor.identity.defaults import DEFAULT_MAX_DEPTH
from proctor.identity.errors import (
    TOKEN_CHAIN_TOO_DEEP,
    TOKEN_MALFORMED,
    TOKEN_REVOKED,
    TOKEN_UNKNOWN_KID,
    TOKEN_WRONG_ISSUER,
    TokenRejected,
)
from proctor.identity.keys import SigningKey
from proctor.identity.revocation import RevocationList
from proctor.identity.scopes import ScopeSet
from proctor.model.actions import InvalidPattern

_CACHE_LIMIT = 8192
# user claims carried into the delegation (under `user_claims`), never the user's token
CARRIED_USER_CLAIMS = ("email", "name", "tenant", "groups")


@dataclass(frozen=True, slots=True)
class Delegation:
    """A verified delegation: the user, the chain of agents (current first) and the scopes."""

    issuer: str
    subject: str
    actors: tuple[str, ...]
    scopes: ScopeSet
    audience: tuple[str, ...]
    expires_at: int
    issued_at: int
    jti: str
    tier: str | None = None
    role: str | None = None
    run_id: str | None = None
    user_claims: Mapping[str, Any] = field(default_factory=dict)
    # jti of the delegation token this one was exchanged from, then of its parent...
    parents: tuple[str, ...] = ()

    @property
    def lineage(self) -> tuple[str, ...]:
        """This token's ``jti`` and its ancestors': revoking any of them refuses this token."""
        return (self.jti, *self.parents)

    @property
    def actor(self) -> str:
        return self.actors[0]

    @property
    def depth(self) -> int:
        return len(self.actors)

    def chain(self) -> tuple[dict[str, Any], ...]:
        """The ``act`` chain for the audit record, outermost (current actor) first."""
        return tuple(
            {"sub": actor, "depth": len(self.actors) - i} for i, actor in enumerate(self.actors)
        )


def nest_act(actors: tuple[str, ...]) -> dict[str, Any]:
    """The RFC 8693 §4.1 ``act`` claim for ``actors`` (current first)."""
    claim: dict[str, Any] = {"sub": actors[-1]}
    for actor in reversed(actors[:-1]):
        claim = {"sub": actor, "act": claim}
    return claim


def read_act(claim: Any, limit: int) -> tuple[str, ...]:
    """The actors of a nested ``act`` claim, current first; stops past ``limit`` levels."""
    actors: list[str] = []
    while claim is not None:
        if not isinstance(claim, dict) or not isinstance(claim.get("sub"), str):
            raise TokenRejected(
                "the `act` claim is not a nested object with `sub`", code=TOKEN_MALFORMED
            )
        actors.append(claim["sub"])
        if len(actors) > limit:
            raise TokenRejected(
                f"the delegation chain is deeper than {limit} agents", code=TOKEN_CHAIN_TOO_DEEP
            )
        claim = claim.get("act")
    if not actors:
        raise TokenRejected(
            "the token has no `act` claim: it is not a delegation", code=TOKEN_MALFORMED
        )
    return tuple(actors)


def delegation_claims(delegation: Delegation) -> dict[str, Any]:
    """The JWT claims of ``delegation``."""
    claims: dict[str, Any] = {
        "iss": delegation.issuer,
        "sub": delegation.subject,
        "aud": delegation.audience[0]
        if len(delegation.audience) == 1
        else list(delegation.audience),
        "exp": delegation.expires_at,
        "iat": delegation.issued_at,
        "nbf": delegation.issued_at,
        "jti": delegation.jti,
        "act": nest_act(delegation.actors),
        "scope": " ".join(delegation.scopes.to_strings()),
        "client_id": delegation.actor,
    }
    if delegation.tier is not None:
        claims["tier"] = delegation.tier
    if delegation.role is not None:
        claims["role"] = delegation.role
    if delegation.run_id is not None:
        claims["run_id"] = delegation.run_id
    if delegation.user_claims:
        claims["user_claims"] = dict(delegation.user_claims)
    if delegation.parents:
        claims["parent_jtis"] = list(delegation.parents)
    return claims


def sign_delegation(delegation: Delegation, key: SigningKey) -> str:
    return jose.sign(delegation_claims(delegation), key.private, kid=key.kid)


class DelegationVerifier:
    """Verifies delegation tokens proctor issued, for one audience (proctor's own)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: Callable[[float], Mapping[str, SigningKey]],
        revocations: RevocationList,
        leeway: float = 30.0,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = keys
        self._revocations = revocations
        self._leeway = leeway
        self.max_depth = max_depth
        self._cache: dict[str, _Verified] = {}
        self._lock = threading.Lock()

    def verify(self, token: str, now: float) -> Delegation:
        """The delegation ``token`` carries, or ``TokenRejected`` with the failed check's code."""
        cached = self._cache.get(token)
        if cached is None:
            cached = self._verify_new(token, now)
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[token] = cached
        else:
            # the clock may have moved either way since: every time check again
            if cached.kid not in self._keys(now):
                raise TokenRejected(
                    f"key id `{cached.kid}` is not one of proctor's keys", code=TOKEN_UNKNOWN_KID
                )
            jose.check_times(cached.times, now, self._leeway)
        found = cached.delegation
        for jti in found.lineage:
            if self._revocations.is_revoked(jti, now):
                raise TokenRejected(
                    f"token `{found.jti}` has been revoked"
                    if jti == found.jti
                    else f"token `{found.jti}` was exchanged from revoked token `{jti}`",
                    code=TOKEN_REVOKED,
                )
        return found

    def peek_issuer(self, token: str) -> bool:
        """True when ``token`` claims to come from this issuer (routing only, not trust)."""
        if token in self._cache:
            return True
        try:
            _, payload = jose.split_token(token)
        except TokenRejected:
            return False
        return payload.get("iss") == self.issuer

    def _verify_new(self, token: str, now: float) -> _Verified:
        header, claims = jose.split_token(token)
        alg = jose.require_algorithm(header, ("EdDSA",))
        if claims.get("iss") != self.issuer:
            raise TokenRejected(
                f"issuer `{claims.get('iss')}` is not proctor's `{self.issuer}`",
                code=TOKEN_WRONG_ISSUER,
            )
        kid = header.get("kid")
        key = self._keys(now).get(kid) if isinstance(kid, str) else None
        if key is None or not isinstance(kid, str):
            raise TokenRejected(
                f"key id `{kid}` is not one of proctor's keys", code=TOKEN_UNKNOWN_KID
            )
        jose.verify_signature(token, key.verifier(), alg)
        expires_at = jose.check_times(claims, now, self._leeway)
        jose.check_audience(claims, (self.audience,))
        actors = read_act(claims.get("act"), self.max_depth)
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise TokenRejected("the `scope` claim is not a string", code=TOKEN_MALFORMED)
        try:
            scopes = ScopeSet.parse(scope.split())
        except InvalidPattern as exc:
            raise TokenRejected(
                f"the `scope` claim is not valid: {exc}", code=TOKEN_MALFORMED
            ) from exc
        aud = claims["aud"]
        user_claims = claims.get("user_claims")
        delegation = Delegation(
            issuer=self.issuer,
            subject=jose.require_string(claims, "sub"),
            actors=actors,
            scopes=scopes,
            audience=(aud,) if isinstance(aud, str) else tuple(aud),
            expires_at=expires_at,
            issued_at=int(claims.get("iat", 0)),
            jti=jose.require_string(claims, "jti"),
            tier=_optional_str(claims, "tier"),
            role=_optional_str(claims, "role"),
            run_id=_optional_str(claims, "run_id"),
            user_claims=user_claims if isinstance(user_claims, dict) else {},
            parents=read_parents(claims.get("parent_jtis"), len(actors)),
        )
        times: dict[str, Any] = {
            name: claims[name] for name in ("exp", "nbf", "iat") if name in claims
        }
        return _Verified(delegation, times, kid)


def read_parents(claim: Any, depth: int) -> tuple[str, ...]:
    """The ``parent_jtis`` of a token ``depth`` agents deep: exactly one per earlier exchange.

    A token an agent got for a user has none; each exchange of a delegation
    token adds one, so a chain of ``depth`` agents names ``depth - 1`` ancestors.
    A token that names fewer could not be refused with its ancestors: refused.
    """
    if claim is None and depth == 1:
        return ()
    if (
        not isinstance(claim, list)
        or len(claim) != depth - 1
        or not all(isinstance(jti, str) and jti for jti in claim)
    ):
        raise TokenRejected(
            f"a delegation {depth} agents deep must name its {depth - 1} parent tokens "
            "in `parent_jtis`",
            code=TOKEN_MALFORMED,
        )
    return tuple(claim)


@dataclass(frozen=True, slots=True)
class _Verified:
    """A cache entry: the delegation, the time claims to re-check and the signing key id."""

    delegation: Delegation
    times: Mapping[str, Any]
    kid: str


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None
