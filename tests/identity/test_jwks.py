"""The JWKS cache: refresh on an unknown kid, at a bounded rate; stale keys on fetch failure."""

from __future__ import annotations

from typing import Any

import pytest

from proctor.identity.errors import IdentityError
from proctor.identity.jwks import JwksCache, parse_jwks
from tests.identity import factory as f


class _Source:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.calls = 0
        self.fail = False

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise IdentityError("down", code="jwks_unavailable")
        return self.document


def test_unknown_kid_refreshes_at_a_bounded_rate() -> None:
    now = [0.0]
    source = _Source({"keys": [f.jwk(f.RSA_KEY, "rsa-1")]})
    cache = JwksCache(source, lambda: now[0], max_age=300, min_refresh=30)
    assert cache.key("rsa-1") is not None
    assert source.calls == 1
    for _ in range(100):  # a flood of forged kids: no fetch within the window
        assert cache.key("forged") is None
    assert source.calls == 1
    source.document = {"keys": [f.jwk(f.RSA_KEY, "rsa-1"), f.jwk(f.EC_KEY, "ec-2")]}
    now[0] = 31
    assert cache.key("ec-2") is not None  # the rotated-in key is found by one refresh
    assert source.calls == 2


def test_expired_cache_refetches_and_keeps_stale_keys_when_the_idp_is_down() -> None:
    now = [0.0]
    source = _Source({"keys": [f.jwk(f.RSA_KEY, "rsa-1")]})
    cache = JwksCache(source, lambda: now[0], max_age=300, min_refresh=30)
    cache.key("rsa-1")
    source.fail = True
    now[0] = 400
    assert cache.key("rsa-1") is not None
    assert source.calls == 2


def test_first_fetch_failure_is_an_error() -> None:
    source = _Source({})
    source.fail = True
    with pytest.raises(IdentityError):
        JwksCache(source, lambda: 0.0).key("x")


def test_invalid_documents() -> None:
    with pytest.raises(IdentityError):
        parse_jwks({"keys": "no"})
    assert parse_jwks({"keys": [{**f.jwk(f.RSA_KEY, "enc"), "use": "enc"}]}) == {}
