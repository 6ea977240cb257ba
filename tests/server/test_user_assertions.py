"""An agent's API key names a user only as narrow as that user is (``server.user_assertions``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from proctor.config import load_config
from proctor.identity.credentials import new_api_key
from proctor.runtime import build_runtime
from proctor.server import create_app
from proctor.storage.contracts import StoredCredential
from tests.server.conftest import bearer
from tests.server.gateway import AUDITOR_KEY, PEP_KEY, write_config

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"


def _gateway(directory: Path, *, require_tokens: bool = False) -> Iterator[TestClient]:
    config = write_config(directory)
    text = config.read_text()
    text = text.replace(
        "users:\n", 'users:\n  bob: {scopes: ["read:*"], claims: {tenant: t1}}\n'
    ).replace(
        "  - {id: other-bot, role: support, tier: verified}\n",
        "  - {id: other-bot, role: support, tier: verified}\n"
        "  - {id: portal-bot, role: support, tier: verified, may_assert_users: true}\n",
    )
    if require_tokens:
        text = text.replace(
            "identity: {allow_dev_tokens: true}",
            "identity: {allow_dev_tokens: true, require_user_tokens: true}",
        )
    config.write_text(text)
    loaded = load_config(config)
    app = create_app(build_runtime(loaded, wait_for_audit=False), config=loaded)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _gateway(tmp_path)


def _key(client: TestClient, agent_id: str) -> str:
    """An API key for a configured agent (as `proctor agent create` issues for a stored one)."""
    identity = client.app.state.gateway.runtime.identity  # type: ignore[attr-defined]
    key, record = new_api_key(agent_id)
    identity.store.add_credential(
        StoredCredential(agent_id, "api_key", record.key_id, digest=record.digest, created_at=0)
    )
    return key


def _check(client: TestClient, key: str, action: str, user: Any, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        "/v1/check", json={"action": action, "user": user, **extra}, headers=bearer(key)
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _record(client: TestClient, decision_id: str) -> dict[str, Any]:
    client.app.state.gateway.runtime.audit.flush()  # type: ignore[attr-defined]
    found = client.get(f"/v1/audit/{decision_id}", headers=bearer(AUDITOR_KEY))
    record: dict[str, Any] = found.json()
    return record


SMALL_REFUND = {"args": {"amount": 5}}


def test_an_agent_key_cannot_widen_a_configured_user(client: TestClient) -> None:
    key = _key(client, "support-bot")
    widened = _check(
        client, key, "write:refund", {"sub": "bob", "scopes": ["write:*", "*"]}, **SMALL_REFUND
    )
    assert widened["effect"] == "deny"
    assert widened["code"] == "scope_missing"
    assert widened["effective_scopes"] == ["read:*"]
    plain = _check(client, key, "read:orders", {"sub": "bob"})  # no scopes sent: bob's own
    assert plain["allowed"]
    narrowed = _check(client, key, "read:invoices", {"sub": "alice", "scopes": ["read:orders"]})
    assert narrowed["code"] == "scope_missing"
    assert _check(client, key, "read:orders", {"sub": "alice", "scopes": ["read:orders"]})[
        "allowed"
    ]
    claimed = _check(
        client, key, "read:orders", {"sub": "bob", "claims": {"tenant": "t2", "roles": ["admin"]}}
    )
    assert _record(client, claimed["decision_id"])["user"]["claims"] == {"tenant": "t1"}


@pytest.mark.parametrize(
    "user", ["mallory", {"sub": "mallory", "scopes": ["*"]}, {"sub": "bob2", "scopes": ["read:*"]}]
)
def test_an_unknown_user_asserted_by_an_agent_gets_no_scopes(
    client: TestClient, user: object
) -> None:
    key = _key(client, "support-bot")
    answer = _check(client, key, "read:orders", user)
    assert answer["effect"] == "deny"
    assert answer["code"] == "scope_missing"
    assert answer["effective_scopes"] == []


def test_an_agent_configured_to_assert_users_may_name_new_ones_but_not_widen_known_ones(
    client: TestClient,
) -> None:
    key = _key(client, "portal-bot")
    new_user = _check(client, key, "read:orders", {"sub": "walk-in", "scopes": ["read:*"]})
    assert new_user["allowed"]
    widened = _check(
        client, key, "write:refund", {"sub": "bob", "scopes": ["write:*"]}, **SMALL_REFUND
    )
    assert widened["code"] == "scope_missing"
    claimed = _check(client, key, "read:orders", {"sub": "bob", "claims": {"tenant": "t2"}})
    assert _record(client, claimed["decision_id"])["user"]["claims"] == {"tenant": "t1"}


def test_authzen_and_batch_assertions_are_narrowed_the_same_way(client: TestClient) -> None:
    key = _key(client, "support-bot")
    evaluation = {
        "subject": {"type": "user", "id": "bob", "properties": {"scopes": ["write:*"]}},
        "action": {"name": "write:refund"},
        "resource": {"type": "refund", "id": "R-1"},
        "context": {"amount": 5},
    }
    answer = client.post("/access/v1/evaluation", json=evaluation, headers=bearer(key))
    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] is False
    batch = client.post(
        "/v1/check/batch",
        json={
            "checks": [
                {"action": "read:orders", "user": {"sub": "nobody", "scopes": ["*"]}},
                {"action": "write:refund", "user": {"sub": "bob", "scopes": ["*"]}, **SMALL_REFUND},
            ]
        },
        headers=bearer(key),
    ).json()
    assert [item["code"] for item in batch["decisions"]] == ["scope_missing", "scope_missing"]


@pytest.mark.parametrize(
    "user",
    [
        {"sub": "bob", "scopes": ["read:**:x:"]},
        {"sub": "bob", "scopes": "read:*"},
        {"sub": "bob", "scopes": ["read:*"] * 501},
        {"sub": ["bob"]},
        {"sub": "bob", "scopes": [{"x": 1}]},
    ],
    ids=["bad-pattern", "string", "too-many", "list-sub", "object-scope"],
)
def test_a_malformed_assertion_is_a_400(client: TestClient, user: object) -> None:
    key = _key(client, "support-bot")
    answer = client.post(
        "/v1/check", json={"action": "read:orders", "user": user}, headers=bearer(key)
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_body"


def test_a_trusted_pep_still_names_users(client: TestClient) -> None:
    answer = _check(
        client,
        PEP_KEY,
        "read:orders",
        {"sub": "walk-in", "scopes": ["read:*"]},
        agent="support-bot",
    )
    assert answer["allowed"]


def test_a_deployment_can_require_delegation_tokens_for_every_user(tmp_path: Path) -> None:
    for client in _gateway(tmp_path, require_tokens=True):
        key = _key(client, "support-bot")
        for user in ("alice", {"sub": "alice"}, {"sub": "walk-in", "scopes": ["read:*"]}):
            refused = client.post(
                "/v1/check", json={"action": "read:orders", "user": user}, headers=bearer(key)
            )
            assert refused.status_code == 403
            assert refused.json()["code"] == "user_token_required"
        assert _check(client, key, "read:orders", None)["allowed"]  # the agent's own call
        runtime = client.app.state.gateway.runtime  # type: ignore[attr-defined]
        form = {
            "grant_type": EXCHANGE,
            "subject_token": runtime.identity.mint_dev_user_token("alice", ("read:*",)),
            "subject_token_type": ACCESS,
        }
        issued = client.post("/oauth2/token", data=form, headers=bearer(key))
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        via_token = client.post("/v1/check", json={"action": "read:orders"}, headers=bearer(token))
        assert via_token.json()["allowed"]
