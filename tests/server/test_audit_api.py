"""``GET /v1/audit`` filters and cursor pagination, one record, verify."""

from __future__ import annotations

from tests.server.conftest import TestClient, bearer
from tests.server.gateway import AUDITOR_KEY, PEP_KEY


def _check(client: TestClient, action: str, agent: str = "support-bot", **extra: object) -> str:
    body = {"action": action, "agent": agent, **extra}
    decision_id: str = client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).json()[
        "decision_id"
    ]
    return decision_id


def test_filters_and_pagination_walk_every_matching_record(client: TestClient) -> None:
    ids = [_check(client, "read:orders", user="alice", run_id="r1") for _ in range(7)]
    _check(client, "delete:orders", agent="other-bot")
    seen: list[str] = []
    cursor = 0
    for _ in range(10):
        page = client.get(
            "/v1/audit",
            params={"agent": "support-bot", "effect": "allow", "limit": 3, "cursor": cursor},
            headers=bearer(AUDITOR_KEY),
        ).json()
        seen += [item["record"]["decision_id"] for item in page["records"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == ids
    denied = client.get("/v1/audit", params={"effect": "deny"}, headers=bearer(AUDITOR_KEY)).json()[
        "records"
    ]
    assert [r["record"]["agent"]["id"] for r in denied] == ["other-bot"]
    by_run = client.get(
        "/v1/audit",
        params={"run": "r1", "user": "alice", "action": "read:orders"},
        headers=bearer(AUDITOR_KEY),
    ).json()["records"]
    assert len(by_run) == 7
    ts = by_run[3]["record"]["ts"]
    later = client.get(
        "/v1/audit", params={"since": ts, "run": "r1"}, headers=bearer(AUDITOR_KEY)
    ).json()["records"]
    assert [r["record"]["decision_id"] for r in later] == ids[3:]
    earlier = client.get(
        "/v1/audit", params={"until": ts, "run": "r1"}, headers=bearer(AUDITOR_KEY)
    ).json()["records"]
    assert [r["record"]["decision_id"] for r in earlier] == ids[:3]


def test_one_record_and_verify(client: TestClient) -> None:
    decision_id = _check(client, "read:orders")
    record = client.get(f"/v1/audit/{decision_id}", headers=bearer(AUDITOR_KEY)).json()
    assert record["decision_id"] == decision_id
    assert record["effect"] == "allow"
    missing = client.get("/v1/audit/nope", headers=bearer(AUDITOR_KEY))
    assert missing.status_code == 404
    assert missing.json()["code"] == "record_not_found"
    report = client.get("/v1/audit/verify", headers=bearer(AUDITOR_KEY)).json()
    assert report["ok"] is True
    assert report["checked"] >= 1


def test_unknown_or_bad_query_parameters_are_400(client: TestClient) -> None:
    for params in ({"colour": "red"}, {"limit": "0"}, {"cursor": "x"}):
        response = client.get("/v1/audit", params=params, headers=bearer(AUDITOR_KEY))
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_query"
