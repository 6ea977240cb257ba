"""Keys, tokens and a runtime with identity, for the identity tests (no network, no sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from proctor.clock import ManualClock
from proctor.identity.jwks import static_jwks
from proctor.identity.keys import KeyRing
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.identity.settings import IdentityConfig
from proctor.model import Agent, Tier
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.runtime.identity import IdentityService
from proctor.storage import open_audit_store
from proctor.storage.contracts import IdentityStore
from proctor.storage.memory_identity import MemoryIdentityStore

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())
IDP = "https://idp.example"
API = "proctor-api"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = Ed25519PrivateKey.generate()
OTHER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = {"RS256": (RSA_KEY, "rsa-1"), "ES256": (EC_KEY, "ec-1"), "EdDSA": (ED_KEY, "ed-1")}


def jwk(private: Any, kid: str) -> dict[str, Any]:
    public = private.public_key()
    if isinstance(private, rsa.RSAPrivateKey):
        value = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        value = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        value = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**value, "kid": kid, "use": "sig"}


IDP_JWKS = {"keys": [jwk(key, kid) for key, kid in KEYS.values()]}

ROLES = {
    "sales": ("read:crm", "read:orders", "write:refund", "write:email"),
    "refunds": ("read:orders", "write:refund"),
    "mailer": ("write:email",),
}
AGENTS = {
    "sales-assistant": Agent("sales-assistant", "sales", Tier.VERIFIED),
    "refund-worker": Agent("refund-worker", "refunds", Tier.TRUSTED),
    "mailer": Agent("mailer", "mailer", Tier.VERIFIED),
    "sales-2": Agent("sales-2", "sales", Tier.VERIFIED),
}
ALLOW_ALL = 'name: all\nrules:\n  - {action: "*", effect: allow}\n'


def user_claims(sub: str = "alice", scope: str = "read:* write:refund", **extra: Any) -> dict:
    claims = {
        "iss": IDP,
        "sub": sub,
        "aud": API,
        "iat": T0,
        "nbf": T0,
        "exp": T0 + 3600,
        "scope": scope,
    }
    claims.update(extra)
    return claims


def user_token(
    sub: str = "alice",
    scope: str = "read:* write:refund",
    *,
    alg: str = "RS256",
    kid: str | None = None,
    key: Any = None,
    **extra: Any,
) -> str:
    private, default_kid = KEYS[alg]
    headers = {"kid": kid or default_kid}
    return jwt.encode(user_claims(sub, scope, **extra), key or private, alg, headers=headers)


def service(
    clock: ManualClock,
    *,
    jwks: dict[str, Any] | None = None,
    store: IdentityStore | None = None,
    keys: KeyRing | None = None,
    **settings: Any,
) -> IdentityService:
    """An identity service trusting the test IdP (its JWKS served from memory)."""
    registry = AgentRegistry(AGENTS, {name: ScopeSet.parse(s) for name, s in ROLES.items()})
    issuers = settings.pop("issuers", [{"issuer": IDP, "audiences": [API], "jwks_file": "-"}])
    return IdentityService(
        IdentityConfig(issuers=issuers, **settings),
        key_path=None,
        store=store or MemoryIdentityStore(),
        registry=registry,
        clock=clock,
        keys=keys or KeyRing.generate(T0 - 10),
        fetchers={IDP: static_jwks(jwks or IDP_JWKS)},
    )


def runtime(clock: ManualClock | None = None, **settings: Any) -> Runtime:
    clock = clock or ManualClock(NOW)
    identity = service(clock, **settings)
    return Runtime(
        policies=load_policies(texts=[ALLOW_ALL]),
        registry=identity.registry,
        audit=open_audit_store(":memory:"),
        clock=clock,
        identity=identity,
    )


def exchange(rt: Runtime, subject: str, actor: str, scope: tuple[str, ...] = ()) -> str:
    from proctor.identity.exchange import TokenExchangeRequest

    request = TokenExchangeRequest(subject_token=subject, scope=scope)
    return rt.exchange(request, actor=actor).response.access_token


def last_record(rt: Runtime) -> dict[str, Any]:
    rt.audit.flush()
    return rt.audit.tail(1)[0]
