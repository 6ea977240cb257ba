"""Attacks on delegation: each is a deny with its own code, and each is audited."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from proctor.clock import ManualClock
from proctor.identity.errors import ExchangeError
from proctor.identity.exchange import TokenExchangeRequest
from proctor.identity.keys import KeyRing, SigningKey
from proctor.storage.memory_identity import MemoryIdentityStore
from tests.identity import factory as f


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _delegation(rt, user: str = "alice", scope: str = "read:* write:refund") -> str:
    return f.exchange(rt, f.user_token(user, scope), "sales-assistant")


def _check_denied(rt, token: str, code: str, action: str = "read:orders") -> None:
    decision = rt.check(action, token=token)
    assert not decision.allowed
    assert decision.code == code, decision.reason
    record = f.last_record(rt)
    assert record["decision_id"] == decision.decision_id
    assert record["code"] == code
    assert record["effect"] == "deny"


def _resign(token: str, header: dict | None = None, payload: dict | None = None) -> str:
    head, body, signature = token.split(".")
    return ".".join(
        [
            _b64(header) if header is not None else head,
            _b64(payload) if payload is not None else body,
            signature,
        ]
    )


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_alg_none_is_refused() -> None:
    rt = f.runtime()
    claims = _claims(_delegation(rt))
    forged = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    _check_denied(rt, forged, "token_alg_not_allowed")


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    rt = f.runtime()
    token = _delegation(rt)
    assert rt.identity is not None
    public = rt.identity.keyring.active.private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = jwt.get_unverified_header(token)["kid"]
    signing_input = _b64({"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + _b64(_claims(token))
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    _check_denied(rt, forged, "token_alg_not_allowed")


def test_unknown_kid() -> None:
    rt = f.runtime()
    claims = _claims(_delegation(rt))
    stranger = SigningKey.generate(f.T0)
    forged = jwt.encode(claims, stranger.private, "EdDSA", headers={"kid": "nobody"})
    _check_denied(rt, forged, "token_unknown_kid")


def test_signed_by_another_key_under_a_known_kid() -> None:
    rt = f.runtime()
    token = _delegation(rt)
    kid = jwt.get_unverified_header(token)["kid"]
    forged = jwt.encode(_claims(token), SigningKey.generate(f.T0).private, "EdDSA", {"kid": kid})
    _check_denied(rt, forged, "token_bad_signature")


def test_expired() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock)
    token = _delegation(rt)
    assert rt.check("read:orders", token=token).allowed  # cached now
    clock.advance(seconds=600 + 31)
    _check_denied(rt, token, "token_expired")


def test_nbf_in_the_future() -> None:
    rt = f.runtime()
    assert rt.identity is not None
    key = rt.identity.keyring.active
    claims = _claims(_delegation(rt))
    claims["nbf"] = f.T0 + 3600
    forged = jwt.encode(claims, key.private, "EdDSA", headers={"kid": key.kid})
    _check_denied(rt, forged, "token_not_yet_valid")


def test_wrong_audience_and_wrong_issuer() -> None:
    rt = f.runtime()
    assert rt.identity is not None
    key = rt.identity.keyring.active
    claims = _claims(_delegation(rt))
    wrong_aud = jwt.encode({**claims, "aud": "billing"}, key.private, "EdDSA", {"kid": key.kid})
    _check_denied(rt, wrong_aud, "token_wrong_audience")
    wrong_iss = jwt.encode({**claims, "iss": "urn:evil"}, key.private, "EdDSA", {"kid": key.kid})
    _check_denied(rt, wrong_iss, "token_wrong_issuer")


def test_tampered_payload() -> None:
    rt = f.runtime()
    token = _delegation(rt, "bob", "read:*")
    claims = _claims(token)
    claims["scope"] = "read:crm read:orders write:refund write:email"
    _check_denied(rt, _resign(token, payload=claims), "token_bad_signature", "write:refund")


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "a.b", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9.eyJ", "x" * 20_000],
)
def test_truncated_and_garbage_tokens(garbage: str) -> None:
    rt = f.runtime()
    _check_denied(rt, garbage, "token_malformed")


def test_truncated_signature() -> None:
    rt = f.runtime()
    token = _delegation(rt)
    _check_denied(rt, token[:-10], "token_bad_signature")


def test_revoked_jti() -> None:
    rt = f.runtime()
    token = _delegation(rt)
    assert rt.check("read:orders", token=token).allowed
    assert rt.identity is not None
    claims = _claims(token)
    rt.identity.revoke(claims["jti"], claims["exp"], "leaked")
    _check_denied(rt, token, "token_revoked")


def test_revocation_from_another_process_is_seen_after_the_refresh() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock)
    token = _delegation(rt)
    assert rt.check("read:orders", token=token).allowed
    assert rt.identity is not None
    claims = _claims(token)
    rt.identity.store.revoke_token(claims["jti"], claims["exp"], "by the CLI")  # not via the list
    clock.advance(seconds=5)
    _check_denied(rt, token, "token_revoked")


def test_a_token_for_another_agent_is_refused() -> None:
    rt = f.runtime()
    decision = rt.check("read:orders", token=_delegation(rt), agent="refund-worker")
    assert decision.code == "token_actor_mismatch"


def test_a_token_whose_agent_was_removed_is_refused() -> None:
    rt = f.runtime()
    token = _delegation(rt)
    rt.replace_registry(type(rt.registry)({}, rt.registry.roles))
    assert rt.identity is not None
    rt.identity.registry = rt.registry
    _check_denied(rt, token, "token_unknown_actor")


def test_a_runtime_without_identity_denies_tokens() -> None:
    from proctor.policy import load_policies
    from proctor.runtime import Runtime
    from proctor.storage import open_audit_store

    rt = Runtime(policies=load_policies(texts=[f.ALLOW_ALL]), audit=open_audit_store(None))
    _check_denied(rt, "a.b.c", "token_not_configured")


# -- through the exchange ------------------------------------------------------------------


def _refused(rt, subject: str, actor: str, scope: tuple[str, ...] = ()) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        f.exchange(rt, subject, actor, scope)
    record = f.last_record(rt)
    assert record["kind"] == "token_exchange"
    assert record["effect"] == "deny"
    assert record["code"] == caught.value.code
    return caught.value


def test_scope_escalation_at_each_step_of_a_chain() -> None:
    rt = f.runtime(max_chain_depth=3)
    # step 1: bob has no write:refund; the sales role has it
    error = _refused(rt, f.user_token("bob", "read:*"), "sales-assistant", ("write:refund",))
    assert error.error == "invalid_scope"
    # step 2: the first token lacks write:email; the mailer role has it
    first = f.exchange(rt, f.user_token("alice", "read:* write:refund"), "sales-assistant")
    error = _refused(rt, first, "mailer", ("write:email",))
    assert error.error == "invalid_scope"
    # step 3: narrowed to write:refund, then asking read:crm back at the next hop
    second = f.exchange(rt, first, "refund-worker", ("write:refund",))
    error = _refused(rt, second, "sales-2", ("read:crm",))
    assert error.error == "invalid_scope"
    # without a request, the next hop gets the narrowed set, never more
    third = f.exchange(rt, second, "sales-2")
    assert _claims(third)["scope"] == "write:refund"


def test_a_chain_deeper_than_allowed() -> None:
    rt = f.runtime(max_chain_depth=2)
    first = f.exchange(rt, f.user_token(), "sales-assistant")
    second = f.exchange(rt, first, "refund-worker")
    error = _refused(rt, second, "sales-2")
    assert error.code == "token_chain_too_deep"
    assert error.error == "invalid_request"


def test_a_forged_deep_chain_is_refused_at_check() -> None:
    rt = f.runtime(max_chain_depth=2)
    assert rt.identity is not None
    key = rt.identity.keyring.active
    claims = _claims(_delegation(rt))
    claims["act"] = {"sub": "sales-assistant", "act": {"sub": "a", "act": {"sub": "b"}}}
    forged = jwt.encode(claims, key.private, "EdDSA", headers={"kid": key.kid})
    _check_denied(rt, forged, "token_chain_too_deep")


def test_a_subject_token_that_is_a_delegation_for_another_audience() -> None:
    rt = f.runtime(audiences=["billing-api"])
    request = TokenExchangeRequest(subject_token=f.user_token(), audience=("billing-api",))
    for_billing = rt.exchange(request, actor="sales-assistant").response.access_token
    error = _refused(rt, for_billing, "refund-worker")
    assert error.code == "token_wrong_audience"
    assert error.error == "invalid_request"
    _check_denied(rt, for_billing, "token_wrong_audience")


def test_user_token_attacks_are_refused_at_the_exchange() -> None:
    rt = f.runtime()
    assert _refused(rt, f.user_token(exp=f.T0 - 100), "sales-assistant").code == "token_expired"
    assert _refused(rt, f.user_token(aud="other"), "sales-assistant").code == (
        "token_wrong_audience"
    )
    assert _refused(rt, f.user_token(iss="https://evil"), "sales-assistant").code == (
        "token_wrong_issuer"
    )
    assert _refused(rt, f.user_token(kid="rotated-away"), "sales-assistant").code == (
        "token_unknown_kid"
    )
    wrong_key = f.user_token(key=f.OTHER_RSA)
    assert _refused(rt, wrong_key, "sales-assistant").code == "token_bad_signature"
    hs = jwt.encode(f.user_claims(), b"x" * 32, "HS256", headers={"kid": "rsa-1"})
    assert _refused(rt, hs, "sales-assistant").code == "token_alg_not_allowed"
    dev = rt.identity.mint_dev_user_token("alice", ("read:*",))  # type: ignore[union-attr]
    assert _refused(rt, dev, "sales-assistant").code == "token_dev_refused"


def test_a_revoked_agent_s_tokens_stop_working() -> None:
    from proctor.storage.contracts import StoredAgent

    clock = ManualClock(f.NOW)
    rt = f.runtime(clock)
    token = _delegation(rt)
    assert rt.check("read:orders", token=token).allowed
    assert rt.identity is not None
    rt.identity.store.put_agent(StoredAgent("sales-assistant", "sales", "verified", revoked_at=1))
    clock.advance(seconds=5)
    _check_denied(rt, token, "token_unknown_actor")
    with pytest.raises(ExchangeError) as caught:
        f.exchange(rt, f.user_token(), "sales-assistant")
    assert caught.value.code == "token_unknown_actor"


def test_crit_and_b64_headers_are_refused() -> None:
    rt = f.runtime()
    assert rt.identity is not None
    key = rt.identity.keyring.active
    claims = _claims(_delegation(rt))
    forged = jwt.encode(claims, key.private, "EdDSA", headers={"kid": key.kid, "crit": ["exp"]})
    _check_denied(rt, forged, "token_malformed")


def test_a_cached_token_is_refused_after_a_clock_step_back() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock)
    token = _delegation(rt)  # iat = nbf = now
    assert rt.check("read:orders", token=token).allowed  # verified once, cached now
    clock.advance(seconds=-31)  # the clock is stepped back past the leeway
    _check_denied(rt, token, "token_not_yet_valid")
    fresh = f.runtime(clock)  # the same verdict as a runtime that never cached it
    assert fresh.identity is not None
    assert rt.identity is not None
    fresh.identity.delegations._keys = rt.identity.delegations._keys  # same issuer keys
    assert fresh.check("read:orders", token=token).code == "token_not_yet_valid"
    clock.advance(seconds=31)
    assert rt.check("read:orders", token=token).allowed


def test_a_cached_token_signed_by_a_key_retired_past_its_overlap_is_refused() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock, keys=KeyRing.generate(f.T0 - 10, overlap=60))
    token = _delegation(rt)
    assert rt.check("read:orders", token=token).allowed
    assert rt.identity is not None
    rt.identity.rotate_keys()
    clock.advance(seconds=30)
    assert rt.check("read:orders", token=token).allowed  # within the overlap
    clock.advance(seconds=31)
    _check_denied(rt, token, "token_unknown_kid")


def _chain(rt) -> tuple[str, str, str]:
    parent = _delegation(rt)
    child = f.exchange(rt, parent, "refund-worker")
    return parent, child, f.exchange(rt, child, "sales-2")


def test_a_revoked_parent_refuses_its_descendants_in_every_process_within_the_refresh() -> None:
    clock = ManualClock(f.NOW)
    shared = MemoryIdentityStore()  # one state store, two processes
    here, there = f.runtime(clock, store=shared), f.runtime(clock, store=shared)
    parent, child, grandchild = _chain(here)
    assert _claims(grandchild)["parent_jtis"] == [_claims(child)["jti"], _claims(parent)["jti"]]
    assert _claims(child)["parent_jtis"] == [_claims(parent)["jti"]]
    assert "parent_jtis" not in _claims(parent)
    assert here.check("read:orders", token=grandchild).allowed  # cached
    assert there.identity is not None
    there.identity.revoke(_claims(parent)["jti"], _claims(parent)["exp"], "leaked")
    clock.advance(seconds=5)
    for token in (grandchild, child, parent):
        _check_denied(here, token, "token_revoked")
    exchanged = f.last_record(here)
    assert exchanged["code"] == "token_revoked"


def test_revoking_a_child_leaves_its_parent_valid() -> None:
    rt = f.runtime()
    parent, child, grandchild = _chain(rt)
    assert rt.identity is not None
    rt.identity.revoke(_claims(child)["jti"], _claims(child)["exp"], "leaked")
    _check_denied(rt, grandchild, "token_revoked")
    _check_denied(rt, child, "token_revoked")
    assert rt.check("read:orders", token=parent).allowed
    error = _refused(rt, child, "sales-2")  # nor can it be exchanged again
    assert error.code == "token_revoked"


@pytest.mark.parametrize(
    "parents",
    [None, [], "jti-a", ["jti-a", "jti-b"], [7], [""], [["jti-a"]], {"jti": "jti-a"}],
)
def test_a_chained_token_that_does_not_name_exactly_its_parents_is_refused(parents) -> None:
    rt = f.runtime()
    assert rt.identity is not None
    key = rt.identity.keyring.active
    claims = _claims(f.exchange(rt, _delegation(rt), "refund-worker"))  # two agents deep
    if parents is None:
        del claims["parent_jtis"]
    else:
        claims["parent_jtis"] = parents
    forged = jwt.encode(claims, key.private, "EdDSA", headers={"kid": key.kid})
    _check_denied(rt, forged, "token_malformed", "read:orders")


def test_a_revocation_holds_while_the_leeway_would_still_pass_the_token() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock, leeway_seconds=300)
    token = _delegation(rt)
    claims = _claims(token)
    assert rt.identity is not None
    rt.identity.store.revoke_token(claims["jti"], claims["exp"], "revoked until exp")
    clock.set(datetime.fromtimestamp(claims["exp"] + 200, UTC))  # past exp, within the leeway
    _check_denied(rt, token, "token_revoked")
    clock.advance(seconds=101)
    _check_denied(rt, token, "token_expired")
