"""``POST /v1/check`` and ``/v1/check/batch`` with each kind of credential."""

from __future__ import annotations

from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY


def test_a_pep_key_checks_for_any_agent_and_the_record_is_stored(client: TestClient) -> None:
    response = client.post(
        "/v1/check",
        json={"action": "read:orders", "agent": "support-bot", "user": "alice"},
        headers=bearer(PEP_KEY),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["effect"] == "allow"
    assert body["allowed"] is True
    assert body["rule_ids"] == ["read-all"]
    assert body["version"] == 1
    record = client.get(f"/v1/audit/{body['decision_id']}", headers=bearer(AUDITOR_KEY))
    assert record.status_code == 200
    assert record.json()["user"]["sub"] == "alice"


def test_effects_and_codes_travel(client: TestClient) -> None:
    def decide(action: str, **extra: object) -> dict[str, object]:
        body = {"action": action, "agent": "support-bot", **extra}
        answer: dict[str, object] = client.post(
            "/v1/check", json=body, headers=bearer(PEP_KEY)
        ).json()
        return answer

    assert decide("delete:orders")["effect"] == "deny"
    assert decide("write:refund", args={"amount": 500}, user="alice")["effect"] == (
        "require_approval"
    )
    assert decide("read:orders", agent="ghost")["code"] == "unknown_agent"


def test_an_agent_key_checks_only_for_its_own_agent(client: TestClient, agent_key: str) -> None:
    own = client.post("/v1/check", json={"action": "read:orders"}, headers=bearer(agent_key))
    assert own.json()["effect"] == "allow"
    other = client.post(
        "/v1/check",
        json={"action": "read:orders", "agent": "support-bot"},
        headers=bearer(agent_key),
    )
    assert other.status_code == 403
    assert other.json()["code"] == "agent_mismatch"


def test_a_what_if_time_needs_the_admin_scope(client: TestClient) -> None:
    body = {"action": "read:orders", "agent": "support-bot", "at": "2026-11-24T10:00:00Z"}
    assert client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).status_code == 403
    assert client.post("/v1/check", json=body, headers=bearer(ADMIN_KEY)).status_code == 200


def test_an_auditor_key_may_not_check(client: TestClient) -> None:
    response = client.post(
        "/v1/check",
        json={"action": "read:orders", "agent": "support-bot"},
        headers=bearer(AUDITOR_KEY),
    )
    assert response.status_code == 403
    assert response.json()["details"] == {"required_scope": "check"}


def test_batch_answers_in_order(client: TestClient) -> None:
    checks = [
        {"action": "read:orders", "agent": "support-bot"},
        {"action": "delete:orders", "agent": "support-bot"},
    ]
    response = client.post("/v1/check/batch", json={"checks": checks}, headers=bearer(PEP_KEY))
    assert [d["effect"] for d in response.json()["decisions"]] == ["allow", "deny"]


def test_bad_bodies_are_400_with_every_problem(client: TestClient) -> None:
    response = client.post("/v1/check", json={"agent": 3}, headers=bearer(PEP_KEY))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_body"
    assert {p["path"] for p in body["details"]["problems"]} >= {"action", "agent"}
    broken = client.post(
        "/v1/check",
        content=b"{not json",
        headers={**bearer(PEP_KEY), "content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "invalid_json"


def test_a_body_past_the_limit_is_413(client: TestClient) -> None:
    big = {"action": "read:orders", "agent": "support-bot", "args": {"x": "a" * 70_000}}
    response = client.post("/v1/check", json=big, headers=bearer(PEP_KEY))
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
