"""``POST /oauth2/token`` (RFC 8693) and the JWKS; a delegation token then checks."""

from __future__ import annotations

from proctor.config import load_config
from proctor.runtime.identity import build_identity
from tests.server.conftest import TestClient, bearer

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
