"""RFC 8693 token exchange: §2.1 request, §2.2.1 response, §2.2.2 errors, §4.1 nested act."""

from __future__ import annotations

import jwt
import pytest

from proctor.clock import ManualClock
from proctor.identity.credentials import new_api_key
from proctor.identity.errors import ExchangeError
from proctor.identity.exchange import (
    ACCESS_TOKEN_TYPE,
    API_KEY_TOKEN_TYPE,
    GRANT_TYPE,
    JWT_TOKEN_TYPE,
    TokenExchangeRequest,
)
from proctor.storage.contracts import StoredCredential
from proctor.storage.errors import StorageError
from proctor.storage.memory_identity import MemoryIdentityStore
from proctor.storage.sqlite.identity_store import SqliteIdentityStore
from tests.identity import factory as f


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_the_form_request_of_section_2_1() -> None:
    request = TokenExchangeRequest.from_form(
        {
            "grant_type": GRANT_TYPE,
            "subject_token": "t",
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "scope": "read:crm write:refund",
            "audience": ["proctor"],
        }
    )
    assert request.scope == ("read:crm", "write:refund")
    assert request.audience == ("proctor",)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "subject_token": "t"}, "unsupported_grant_type"),
        ({"grant_type": GRANT_TYPE, "subject_token_type": ACCESS_TOKEN_TYPE}, "invalid_request"),
        (
            {"grant_type": GRANT_TYPE, "subject_token": "t", "subject_token_type": "x"},
            "invalid_request",
        ),
        (
            {
                "grant_type": GRANT_TYPE,
                "subject_token": "t",
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "actor_token": "a",
            },
            "invalid_request",
        ),
    ],
)
def test_bad_requests(form: dict, error: str) -> None:
    with pytest.raises(ExchangeError) as caught:
        TokenExchangeRequest.from_form(form)
    assert caught.value.error == error
    assert caught.value.to_response()["error"] == error
    assert caught.value.status_code == 400


def test_the_response_of_section_2_2_1_and_the_token_claims() -> None:
    rt = f.runtime()
    request = TokenExchangeRequest(subject_token=f.user_token(), run_id="run-7")
    issued = rt.exchange(request, actor="sales-assistant")
    body = issued.response.to_dict()
    assert set(body) == {"access_token", "issued_token_type", "token_type", "expires_in", "scope"}
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "read:crm read:orders write:refund"
    claims = _claims(body["access_token"])
    assert claims["iss"] == "urn:proctor"
    assert claims["sub"] == "alice"
    assert claims["act"] == {"sub": "sales-assistant"}
    assert claims["aud"] == "proctor"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["tier"] == "verified"
    assert claims["role"] == "sales"
    assert claims["run_id"] == "run-7"
    assert claims["jti"]


def test_requested_scopes_narrow() -> None:
    rt = f.runtime()
    token = f.exchange(rt, f.user_token(), "sales-assistant", ("read:orders",))
    assert _claims(token)["scope"] == "read:orders"
    # `read:*` asks for more than the intersection holds (read:crm, read:orders): refused,
    # not silently narrowed
    with pytest.raises(ExchangeError) as caught:
        f.exchange(rt, f.user_token(), "sales-assistant", ("read:*",))
    assert caught.value.error == "invalid_scope"


def test_expiry_never_passes_the_subject_token() -> None:
    rt = f.runtime()
    short_user = f.user_token(exp=f.T0 + 120)
    first = f.exchange(rt, short_user, "sales-assistant")
    assert _claims(first)["exp"] == f.T0 + 120
    second = f.exchange(rt, first, "refund-worker")
    assert _claims(second)["exp"] <= _claims(first)["exp"]


def test_agent_to_agent_nests_act() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock)
    first = f.exchange(rt, f.user_token(), "sales-assistant")
    clock.advance(seconds=60)
    second = f.exchange(rt, first, "refund-worker")
    claims = _claims(second)
    assert claims["sub"] == "alice"
    assert claims["act"] == {"sub": "refund-worker", "act": {"sub": "sales-assistant"}}
    assert claims["scope"] == "read:orders write:refund"
    assert claims["exp"] == _claims(first)["exp"]  # shrinks: not now + 10 minutes
    decision = rt.check("write:refund", token=second)
    assert decision.allowed
    record = f.last_record(rt)
    assert record["user"]["sub"] == "alice"
    assert record["agent"]["id"] == "refund-worker"
    assert [item["sub"] for item in record["delegation"]] == ["refund-worker", "sales-assistant"]
    assert record["effective_scopes"] == ["read:orders", "write:refund"]


def test_audience_targets() -> None:
    rt = f.runtime(audiences=["billing-api"])
    request = TokenExchangeRequest(subject_token=f.user_token(), audience=("elsewhere",))
    with pytest.raises(ExchangeError) as caught:
        rt.exchange(request, actor="sales-assistant")
    assert caught.value.error == "invalid_target"


def test_unknown_actor_and_missing_actor() -> None:
    rt = f.runtime()
    with pytest.raises(ExchangeError) as caught:
        f.exchange(rt, f.user_token(), "ghost")
    assert caught.value.code == "token_unknown_actor"
    with pytest.raises(ExchangeError):
        rt.exchange(TokenExchangeRequest(subject_token=f.user_token()))


def test_no_shared_scope_is_invalid_scope() -> None:
    rt = f.runtime()
    with pytest.raises(ExchangeError) as caught:
        f.exchange(rt, f.user_token("carol", "delete:*"), "sales-assistant")
    assert caught.value.error == "invalid_scope"


def test_an_api_key_as_actor_token() -> None:
    rt = f.runtime()
    assert rt.identity is not None
    key, record = new_api_key("sales-assistant")
    rt.identity.store.add_credential(
        StoredCredential("sales-assistant", "api_key", record.key_id, digest=record.digest)
    )
    request = TokenExchangeRequest(
        subject_token=f.user_token(), actor_token=key, actor_token_type=API_KEY_TOKEN_TYPE
    )
    issued = rt.exchange(request)
    assert issued.delegation.actor == "sales-assistant"
    bad = TokenExchangeRequest(
        subject_token=f.user_token(), actor_token=key + "x", actor_token_type=API_KEY_TOKEN_TYPE
    )
    with pytest.raises(ExchangeError) as caught:
        rt.exchange(bad)
    assert caught.value.error == "invalid_request"
    assert caught.value.code == "token_bad_signature"


def test_a_private_key_jwt_client_assertion_as_actor_token() -> None:
    rt = f.runtime()
    assert rt.identity is not None
    rt.identity.store.add_credential(
        StoredCredential("refund-worker", "public_key", "ed-1", public_jwk=f.jwk(f.ED_KEY, "ed-1"))
    )
    assertion = {
        "iss": "refund-worker",
        "sub": "refund-worker",
        "aud": "urn:proctor",
        "iat": f.T0,
        "exp": f.T0 + 60,
        "jti": "assertion-1",
    }
    signed = jwt.encode(assertion, f.ED_KEY, "EdDSA", headers={"kid": "ed-1"})
    request = TokenExchangeRequest(
        subject_token=f.user_token(), actor_token=signed, actor_token_type=JWT_TOKEN_TYPE
    )
    assert rt.exchange(request).delegation.actor == "refund-worker"
    with pytest.raises(ExchangeError) as replayed:
        rt.exchange(request)
    assert replayed.value.code == "token_revoked"
    impostor = jwt.encode({**assertion, "jti": "2"}, f.OTHER_RSA, "RS256", headers={"kid": "ed-1"})
    forged = TokenExchangeRequest(
        subject_token=f.user_token(), actor_token=impostor, actor_token_type=JWT_TOKEN_TYPE
    )
    with pytest.raises(ExchangeError) as caught:
        rt.exchange(forged)
    assert caught.value.code == "token_bad_signature"


def _assertion_exchange(jti: str, exp: int = f.T0 + 60) -> TokenExchangeRequest:
    claims = {
        "iss": "refund-worker",
        "sub": "refund-worker",
        "aud": "urn:proctor",
        "iat": f.T0,
        "exp": exp,
        "jti": jti,
    }
    signed = jwt.encode(claims, f.ED_KEY, "EdDSA", headers={"kid": "ed-1"})
    return TokenExchangeRequest(
        subject_token=f.user_token(), actor_token=signed, actor_token_type=JWT_TOKEN_TYPE
    )


def _replay_code(rt, request: TokenExchangeRequest) -> str:
    with pytest.raises(ExchangeError) as refused:
        rt.exchange(request)
    assert refused.value.error == "invalid_request"
    return refused.value.code


def test_a_client_assertion_is_single_use_across_runtimes_on_one_sqlite_file(tmp_path) -> None:
    path = str(tmp_path / "proctor.db")
    clock = ManualClock(f.NOW)
    first = f.runtime(clock, store=SqliteIdentityStore(path))
    assert first.identity is not None
    first.identity.store.add_credential(
        StoredCredential("refund-worker", "public_key", "ed-1", public_jwk=f.jwk(f.ED_KEY, "ed-1"))
    )
    second = f.runtime(clock, store=SqliteIdentityStore(path))
    request = _assertion_exchange("once")
    assert first.exchange(request).delegation.actor == "refund-worker"
    assert _replay_code(second, request) == "token_revoked"
    first.close()
    second.close()
    restarted = f.runtime(clock, store=SqliteIdentityStore(path))
    assert _replay_code(restarted, request) == "token_revoked"
    # kept until the assertion could no longer pass its exp check (plus the leeway)
    clock.advance(seconds=60 + 30)
    assert _replay_code(restarted, request) == "token_revoked"
    clock.advance(seconds=1)
    assert _replay_code(restarted, request) == "token_expired"
    restarted.close()


def test_an_oversized_assertion_jti_is_refused_before_it_is_stored() -> None:
    store = MemoryIdentityStore()
    rt = f.runtime(store=store)
    store.add_credential(
        StoredCredential("refund-worker", "public_key", "ed-1", public_jwk=f.jwk(f.ED_KEY, "ed-1"))
    )
    assert _replay_code(rt, _assertion_exchange("j" * 257)) == "token_malformed"
    assert not store._used
    assert rt.exchange(_assertion_exchange("j" * 256)).delegation.actor == "refund-worker"


class _UnwritableAssertions(MemoryIdentityStore):
    def use_assertion(self, issuer: str, jti: str, keep_until: int, now: int) -> bool:
        raise StorageError("the database is locked", code="storage_unavailable")


def test_no_token_when_the_assertion_s_use_cannot_be_recorded() -> None:
    store = _UnwritableAssertions()
    rt = f.runtime(store=store)
    store.add_credential(
        StoredCredential("refund-worker", "public_key", "ed-1", public_jwk=f.jwk(f.ED_KEY, "ed-1"))
    )
    with pytest.raises(StorageError):
        rt.exchange(_assertion_exchange("unrecorded"))
    record = f.last_record(rt)
    assert record["kind"] == "token_exchange"
    assert record["effect"] == "deny"
    assert record["code"] == "storage_unavailable"
