"""OpenID AuthZEN Authorization API 1.0 (§6 evaluation, §7 evaluations) from a plain client."""

from __future__ import annotations

from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY

REQUEST = {
    "subject": {
        "type": "user",
        "id": "alice",
        "properties": {"agent": "support-bot", "scopes": ["read:*"]},
    },
    "action": {"name": "read"},
    "resource": {"type": "orders", "id": "A-1"},
    "context": {"time": "2026-11-24T10:00:00Z"},
}


def test_one_evaluation_answers_per_the_spec(client: TestClient) -> None:
    response = client.post("/access/v1/evaluation", json=REQUEST, headers=bearer(PEP_KEY))
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] is True
    assert body["context"]["rule_ids"] == ["read-all"]
    assert body["context"]["id"]


def test_a_verb_resource_action_name_is_used_as_is(client: TestClient) -> None:
    request = {**REQUEST, "action": {"name": "delete:orders"}}
    request["subject"] = {"type": "user", "id": "alice", "properties": {"agent": "support-bot"}}
    body = client.post("/access/v1/evaluation", json=request, headers=bearer(PEP_KEY)).json()
    assert body["decision"] is False
    assert body["context"]["reason_admin"]["en"]


def test_evaluations_batch_with_defaults_and_semantics(client: TestClient) -> None:
    request = {
        "subject": REQUEST["subject"],
        "resource": {"type": "orders", "id": "A-1"},
        "evaluations": [
            {"action": {"name": "read"}},
            {"action": {"name": "delete"}},
            {"action": {"name": "read"}, "resource": {"type": "invoices", "id": "I-9"}},
        ],
    }
    body = client.post("/access/v1/evaluations", json=request, headers=bearer(PEP_KEY)).json()
    assert [item["decision"] for item in body["evaluations"]] == [True, False, True]
    request["options"] = {"evaluations_semantic": "deny_on_first_deny"}
    body = client.post("/access/v1/evaluations", json=request, headers=bearer(PEP_KEY)).json()
    assert [item["decision"] for item in body["evaluations"]] == [True, False]


def test_evaluations_without_an_array_is_one_evaluation(client: TestClient) -> None:
    body = client.post("/access/v1/evaluations", json=REQUEST, headers=bearer(PEP_KEY)).json()
    assert body["decision"] is True


def test_a_missing_subject_is_400(client: TestClient) -> None:
    request = {key: value for key, value in REQUEST.items() if key != "subject"}
    response = client.post("/access/v1/evaluation", json=request, headers=bearer(PEP_KEY))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body"


def test_a_configured_user_keeps_its_scopes(client: TestClient) -> None:
    request = {
        "subject": {"type": "user", "id": "alice", "properties": {"agent": "support-bot"}},
        "action": {"name": "read"},
        "resource": {"type": "orders", "id": "A-1"},
    }
    body = client.post("/access/v1/evaluation", json=request, headers=bearer(PEP_KEY)).json()
    assert body["decision"] is True
    stranger = {
        **request,
        "subject": {"type": "user", "id": "mallory", "properties": {"agent": "support-bot"}},
    }
    body = client.post("/access/v1/evaluation", json=stranger, headers=bearer(PEP_KEY)).json()
    assert body["decision"] is False
    assert body["context"]["code"] == "scope_missing"
