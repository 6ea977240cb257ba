"""Interoperability with joserfc, a second, independent JOSE library."""

from __future__ import annotations

import pytest
from joserfc import jwt as rfc_jwt
from joserfc.jwk import KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from tests.identity import factory as f

# joserfc warns that `EdDSA` is superseded by `Ed25519` (RFC 9864); both name the same signature
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def test_delegation_tokens_verify_with_joserfc() -> None:
    rt = f.runtime()
    token = f.exchange(rt, f.user_token(), "sales-assistant")
    assert rt.identity is not None
    keys = KeySet.import_key_set(rt.identity.jwks())
    registry = JWSRegistry(algorithms=["EdDSA"])
    decoded = rfc_jwt.decode(token, keys, algorithms=["EdDSA"], registry=registry)
    assert decoded.claims["sub"] == "alice"
    assert decoded.claims["act"] == {"sub": "sales-assistant"}
    assert decoded.header["alg"] == "EdDSA"


@pytest.mark.parametrize("kind", ["RSA", "OKP"])
def test_user_tokens_minted_by_joserfc_are_accepted(kind: str) -> None:
    if kind == "RSA":
        key = RSAKey.generate_key(2048, parameters={"kid": "rfc-rsa"})
        alg = "RS256"
    else:
        key = OKPKey.generate_key("Ed25519", parameters={"kid": "rfc-ed"})
        alg = "EdDSA"
    jwks = {"keys": [key.as_dict(private=False)]}
    rt = f.runtime(jwks=jwks)
    claims = f.user_claims("dana", "read:*")
    token = rfc_jwt.encode(
        {"alg": alg, "kid": key.kid},
        claims,
        key,
        algorithms=[alg],
        registry=JWSRegistry(algorithms=[alg]),
    )
    delegation = f.exchange(rt, token, "sales-assistant")
    assert rt.check("read:crm", token=delegation).allowed
    assert not rt.check("write:refund", token=delegation).allowed
