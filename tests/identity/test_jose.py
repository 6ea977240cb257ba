"""The JOSE boundary: shape checks, accepted algorithms, registered claims."""

from __future__ import annotations

import pytest

from proctor.identity import jose
from proctor.identity.errors import TokenRejected


@pytest.mark.parametrize(
    "token", ["", "a", "a.b", "a..c", "!!.e30.x", "e30.!!.x", "W10.e30.x", "e30.W10.x"]
)
def test_shapes_that_are_not_a_jws(token: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        jose.split_token(token)
    assert caught.value.code == "token_malformed"


@pytest.mark.parametrize("alg", [None, "none", "HS256", "HS512", "PS256", "RS512"])
def test_only_the_asymmetric_algorithms_listed(alg: str | None) -> None:
    with pytest.raises(TokenRejected) as caught:
        jose.require_algorithm({"alg": alg}, ("RS256", "ES256", "EdDSA", "HS256"))
    assert caught.value.code == "token_alg_not_allowed"
    assert jose.require_algorithm({"alg": "ES256"}, ("ES256",)) == "ES256"


def test_times_with_leeway() -> None:
    assert jose.check_times({"exp": 100}, 120, 30) == 100
    with pytest.raises(TokenRejected, match="expired"):
        jose.check_times({"exp": 100}, 131, 30)
    with pytest.raises(TokenRejected) as caught:
        jose.check_times({"exp": True}, 0, 0)
    assert caught.value.code == "token_malformed"


def test_audience_forms() -> None:
    jose.check_audience({"aud": "a"}, {"a"})
    jose.check_audience({"aud": ["b", "a"]}, {"a"})
    for claims in ({}, {"aud": 1}, {"aud": ["b"]}):
        with pytest.raises(TokenRejected) as caught:
            jose.check_audience(claims, {"a"})
        assert caught.value.code == "token_wrong_audience"
