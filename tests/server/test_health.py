"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from tests.server.conftest import TestClient, bearer
from tests.server.gateway import AUDITOR_KEY, PEP_KEY


def test_health_and_readiness_need_no_credential(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready == {"status": "ready", "policies": 1}


def test_readiness_fails_without_policies(client: TestClient) -> None:
    client.post(
        "/v1/admin/policies/reload",
        json={"texts": [], "allow_empty": True},
        headers=bearer("pa_test-admin-key-0123456789"),
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"


def test_metrics_count_decisions_by_effect(client: TestClient) -> None:
    for action in ("read:a", "read:b", "delete:c"):
        client.post(
            "/v1/check", json={"action": action, "agent": "support-bot"}, headers=bearer(PEP_KEY)
        )
    text = client.get("/metrics", headers=bearer(AUDITOR_KEY)).text
    assert 'proctor_decisions_total{effect="allow"} 2.0' in text
    assert 'proctor_decisions_total{effect="deny"} 1.0' in text
    assert "proctor_check_seconds_bucket" in text
    assert "proctor_audit_queue_depth" in text
