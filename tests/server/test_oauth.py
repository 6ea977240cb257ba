"""``POST /oauth2/token`` (RFC 8693) and the JWKS; a delegation token then checks."""

from __future__ import annotations

import base64
import json
import math
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from proctor.config import load_config
from proctor.runtime.identity import build_identity
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"


def _user_token(client: TestClient, scopes: tuple[str, ...]) -> str:
    runtime = client.app.state.gateway.runtime  # type: ignore[attr-defined]
    assert runtime.identity is not None
    return str(runtime.identity.mint_dev_user_token("alice", scopes))


def test_exchange_then_check_with_the_delegation_token(client: TestClient, agent_key: str) -> None:
    form = {
        "grant_type": EXCHANGE,
        "subject_token": _user_token(client, ("read:*",)),
        "subject_token_type": ACCESS,
        "scope": "read:orders",
    }
    response = client.post("/oauth2/token", data=form, headers=bearer(agent_key))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    assert issued["token_type"] == "Bearer"
    assert issued["scope"] == "read:orders"
    token = issued["access_token"]
    allowed = client.post("/v1/check", json={"action": "read:orders"}, headers=bearer(token))
    assert allowed.json()["effect"] == "allow"
    outside = client.post("/v1/check", json={"action": "read:invoices"}, headers=bearer(token))
    assert outside.json()["code"] == "scope_missing"
    jwks = client.get("/.well-known/jwks.json").json()
    assert jwks["keys"]
    assert all("d" not in key for key in jwks["keys"])


def test_an_actor_token_in_the_form_authenticates(client: TestClient, agent_key: str) -> None:
    form = {
        "grant_type": EXCHANGE,
        "subject_token": _user_token(client, ("read:*",)),
        "subject_token_type": ACCESS,
        "actor_token": agent_key,
        "actor_token_type": "urn:proctor:token-type:api-key",
    }
    assert client.post("/oauth2/token", data=form).status_code == 200


def test_errors_follow_rfc_6749_section_5_2(client: TestClient, agent_key: str) -> None:
    wrong_grant = client.post(
        "/oauth2/token", data={"grant_type": "password"}, headers=bearer(agent_key)
    )
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    assert wrong_grant.json()["error_description"]
    too_wide = client.post(
        "/oauth2/token",
        data={
            "grant_type": EXCHANGE,
            "subject_token": _user_token(client, ("read:*",)),
            "subject_token_type": ACCESS,
            "scope": "delete:orders",
        },
        headers=bearer(agent_key),
    )
    assert too_wide.status_code == 400
    assert too_wide.json()["error"] == "invalid_scope"
    bad_subject = client.post(
        "/oauth2/token",
        data={"grant_type": EXCHANGE, "subject_token": "x.y.z", "subject_token_type": ACCESS},
        headers=bearer(agent_key),
    )
    assert bad_subject.status_code == 400
    assert bad_subject.json()["error"] == "invalid_request"  # RFC 8693 §2.2.2
    no_client = client.post("/oauth2/token", data={"grant_type": EXCHANGE})
    assert no_client.status_code == 401
    assert no_client.json()["error"] == "invalid_client"


def test_the_jwks_is_the_configured_key_ring(client: TestClient, config_path: object) -> None:
    loaded = load_config(str(config_path))
    service = build_identity(
        loaded.config.identity,
        base=loaded.base,
        audit_location=None,
        clock=lambda: __import__("datetime").datetime.now(__import__("datetime").UTC),
    )
    assert service is not None
    served = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    assert served == {key["kid"] for key in service.jwks()["keys"]}


def test_a_client_assertion_whose_times_are_no_numbers_is_refused_and_recorded(
    client: TestClient,
) -> None:
    """An agent signs its own assertion: `exp` Infinity or NaN was a 500 (and no record),
    a NaN `iat` or a `-Infinity` `nbf` passed (a NaN compares false with every time)."""
    key = Ed25519PrivateKey.generate()
    public = {**OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}
    created = client.post(
        "/v1/admin/agents",
        json={"id": "signer", "role": "support", "tier": "verified", "public_key": public},
        headers=bearer(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text
    user_token = _user_token(client, ("read:*",))
    times = [
        {"exp": math.inf},
        {"exp": math.nan},
        {"exp": 10**400},
        {"iat": math.nan},
        {"nbf": -math.inf},
    ]
    for bad in times:
        now = int(time.time())
        claims = {"iss": "signer", "sub": "signer", "aud": "urn:proctor", "iat": now}
        claims |= {"exp": now + 120, "jti": uuid.uuid4().hex, **bad}
        form = {
            "grant_type": EXCHANGE,
            "subject_token": user_token,
            "subject_token_type": ACCESS,
            "actor_token": jwt.encode(claims, key, "EdDSA", headers={"kid": "k1"}),
            "actor_token_type": "urn:ietf:params:oauth:token-type:jwt",
        }
        response = client.post("/oauth2/token", data=form)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["code"] == "token_malformed", bad
    records = client.get(
        "/v1/audit", params={"kind": "token_exchange"}, headers=bearer(AUDITOR_KEY)
    ).json()["records"]
    codes = [entry["record"]["code"] for entry in records]
    assert codes == ["token_malformed"] * len(times)


def test_a_token_of_deeply_nested_json_is_malformed_not_a_500(
    client: TestClient, agent_key: str
) -> None:
    """Python's JSON reader raises RecursionError past about 1,000 levels: a bearer token
    whose payload was 5,000 nested arrays was a 500 for anyone, with no credential."""

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "EdDSA", "kid": "k"}).encode())
    nested = part(b"[" * 5000 + b"]" * 5000)
    for token in (f"{header}.{nested}.sig", f"{nested}.{header}.sig"):
        as_bearer = client.post("/v1/check", json={"action": "read:a"}, headers=bearer(token))
        assert as_bearer.status_code == 401, as_bearer.text
        assert as_bearer.json()["code"] == "token_malformed"
        in_body = client.post(
            "/v1/check",
            json={"action": "read:a", "agent": "support-bot", "token": token},
            headers=bearer(PEP_KEY),
        )
        assert (in_body.status_code, in_body.json()["code"]) == (200, "token_malformed")
        form = {"grant_type": EXCHANGE, "subject_token": token, "subject_token_type": ACCESS}
        exchanged = client.post("/oauth2/token", data=form, headers=bearer(agent_key))
        assert exchanged.status_code == 400, exchanged.text
        assert exchanged.json()["code"] == "token_malformed"


def test_a_request_naming_thousands_of_scopes_is_refused(
    client: TestClient, agent_key: str
) -> None:
    """Scope sets compare wildcard patterns pairwise: 2,000 requested scopes kept the token
    endpoint busy for seconds (5,000: a minute), 500 asserted user scopes a check for a
    second, on the event loop."""
    form = {
        "grant_type": EXCHANGE,
        "subject_token": _user_token(client, ("read:*",)),
        "subject_token_type": ACCESS,
        "scope": " ".join(f"read:r{i}:*" for i in range(2_000)),
    }
    many = client.post("/oauth2/token", data=form, headers=bearer(agent_key))
    assert many.status_code == 400, many.text
    assert many.json()["error"] == "invalid_scope"
    form["scope"] = " ".join(f"read:r{i}:*" for i in range(100))
    assert client.post("/oauth2/token", data=form, headers=bearer(agent_key)).status_code == 200
    user = {"sub": "alice", "scopes": [f"read:r{i}:*" for i in range(500)]}
    check = client.post(
        "/v1/check", json={"action": "read:r1:a", "user": user}, headers=bearer(agent_key)
    )
    assert (check.status_code, check.json()["code"]) == (400, "invalid_body")
