"""IdP user tokens: RS256, ES256, EdDSA; registered claims with leeway; claims to scopes."""

from __future__ import annotations

import pytest

from proctor.clock import ManualClock
from proctor.identity.errors import TokenRejected
from proctor.identity.jwks import JwksCache, static_jwks
from proctor.identity.user_tokens import ClaimMapping, TrustedIssuer, UserTokenVerifier
from tests.identity import factory as f


def _verifier(mapping: ClaimMapping | None = None, leeway: float = 30.0) -> UserTokenVerifier:
    keys = JwksCache(static_jwks(f.IDP_JWKS), lambda: float(f.T0))
    issuer = TrustedIssuer(f.IDP, frozenset({f.API}), keys, mapping=mapping or ClaimMapping())
    return UserTokenVerifier([issuer], leeway=leeway)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_each_algorithm_verifies(alg: str) -> None:
    verified = _verifier().verify(f.user_token(alg=alg), f.T0)
    assert verified.user.sub == "alice"
    assert verified.user.scopes == ("read:*", "write:refund")
    assert verified.expires_at == f.T0 + 3600


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": f.T0 - 31}, "token_expired"),
        ({"nbf": f.T0 + 31}, "token_not_yet_valid"),
        ({"iat": f.T0 + 31}, "token_issued_in_future"),
        ({"aud": ["x", "y"]}, "token_wrong_audience"),
        ({"iss": "https://other"}, "token_wrong_issuer"),
        ({"sub": ""}, "token_missing_claim"),
        ({"exp": None}, "token_missing_claim"),
        ({"exp": "soon"}, "token_malformed"),
    ],
)
def test_registered_claims(claims: dict, code: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        _verifier().verify(f.user_token(**claims), f.T0)
    assert caught.value.code == code


def test_leeway_accepts_small_skew() -> None:
    _verifier().verify(f.user_token(exp=f.T0 - 29, nbf=f.T0 + 29, iat=f.T0 + 29), f.T0)
    with pytest.raises(TokenRejected):
        _verifier(leeway=0).verify(f.user_token(exp=f.T0 - 1), f.T0)


def test_audience_list_with_one_accepted_value() -> None:
    assert _verifier().verify(f.user_token(aud=["x", f.API]), f.T0).user.sub == "alice"


def test_claims_to_scopes_mapping() -> None:
    mapping = ClaimMapping(group_scopes={"support-leads": ("write:refund",), "all": ("read:*",)})
    token = f.user_token(
        scope="openid profile read:orders",
        scp=["write:email"],
        groups=["support-leads"],
        roles="all",
    )
    user = _verifier(mapping).verify(token, f.T0).user
    assert user.scopes == ("read:orders", "write:email", "write:refund", "read:*")
    assert user.claims["groups"] == ["support-leads"]


def test_a_token_without_kid_uses_the_only_key() -> None:
    import jwt

    keys = JwksCache(static_jwks({"keys": [f.jwk(f.EC_KEY, "ec-1")]}), lambda: float(f.T0))
    verifier = UserTokenVerifier([TrustedIssuer(f.IDP, frozenset({f.API}), keys)])
    token = jwt.encode(f.user_claims(), f.EC_KEY, "ES256")
    assert verifier.verify(token, f.T0).user.sub == "alice"


def test_dev_tokens_only_when_allowed() -> None:
    clock = ManualClock(f.NOW)
    refusing = f.service(clock)
    dev = refusing.mint_dev_user_token("alice", ("read:*",))
    with pytest.raises(TokenRejected) as caught:
        refusing.users.verify(dev, f.T0)
    assert caught.value.code == "token_dev_refused"


def test_dev_tokens_are_marked_and_accepted_when_allowed() -> None:
    import jwt

    service = f.service(ManualClock(f.NOW), allow_dev_tokens=True)
    dev = service.mint_dev_user_token("alice", ("read:*",), ttl=60)
    assert jwt.get_unverified_header(dev)["kid"] == "dev"
    claims = jwt.decode(dev, options={"verify_signature": False})
    assert claims["iss"] == "urn:proctor:dev"
    assert claims["proctor_dev"] is True
    assert service.users.verify(dev, f.T0).user.scopes == ("read:*",)
    assert "dev" not in [key["kid"] for key in service.jwks()["keys"]]
