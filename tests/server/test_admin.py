"""Agent, policy and approval administration over HTTP; every change audited."""

from __future__ import annotations

from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY


def test_agents_lifecycle(client: TestClient, agent_key: str) -> None:
    admin = bearer(ADMIN_KEY)
    listed = {a["id"]: a for a in client.get("/v1/admin/agents", headers=admin).json()["agents"]}
    assert listed["api-bot"]["source"] == "store"
    assert listed["support-bot"]["source"] == "config"
    shown = client.get("/v1/admin/agents/api-bot", headers=admin).json()
    assert [c["kind"] for c in shown["credentials"]] == ["api_key"]
    assert "digest" not in str(shown)
    again = client.post("/v1/admin/agents", json={"id": "api-bot"}, headers=admin)
    assert again.status_code == 409
    tier = client.post(
        "/v1/admin/agents/api-bot/tier",
        json={"tier": "trusted", "by": "ops-lead", "reason": "reviewed"},
        headers=admin,
    )
    assert tier.json() == {"id": "api-bot", "from": "verified", "to": "trusted", "by": "ops-lead"}
    config_agent = client.post(
        "/v1/admin/agents/support-bot/tier",
        json={"tier": "trusted", "by": "x", "reason": "y"},
        headers=admin,
    )
    assert config_agent.status_code == 409
    assert client.post("/v1/check", json={"action": "read:x"}, headers=bearer(agent_key)).json()[
        "allowed"
    ]
    revoked = client.post("/v1/admin/agents/api-bot/revoke", headers=admin)
    assert revoked.json()["revoked_credentials"] == 1
    after = client.post("/v1/check", json={"action": "read:x"}, headers=bearer(agent_key))
    assert after.status_code == 401
    checked_by_name = client.post(
        "/v1/check", json={"action": "read:x", "agent": "api-bot"}, headers=bearer(PEP_KEY)
    ).json()
    assert checked_by_name["code"] == "unknown_agent"
    kinds = [
        r["record"]["kind"]
        for r in client.get("/v1/audit", params={"agent": "api-bot"}, headers=admin).json()[
            "records"
        ]
    ]
    assert kinds.count("agent_change") == 2
    assert "tier_change" in kinds


def test_a_bad_policy_never_replaces_a_good_one(client: TestClient) -> None:
    admin = bearer(ADMIN_KEY)
    bad = client.post(
        "/v1/admin/policies/reload",
        json={"texts": ["name: broken\nrules: [{action: 'read:*', effect: maybe}]\n"]},
        headers=admin,
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_policy"
    assert bad.json()["details"]["errors"]
    still = client.post(
        "/v1/check", json={"action": "read:orders", "agent": "support-bot"}, headers=admin
    )
    assert still.json()["rule_ids"] == ["read-all"]
    good = client.post(
        "/v1/admin/policies/reload",
        json={"texts": ["name: tight\nrules: [{id: none, action: 'read:*', effect: deny}]\n"]},
        headers=admin,
    )
    assert good.json()["policies"] == 1
    now = client.post(
        "/v1/check", json={"action": "read:orders", "agent": "support-bot"}, headers=admin
    )
    assert now.json()["rule_ids"] == ["none"]
    from_config = client.post("/v1/admin/policies/reload", headers=admin)
    assert from_config.json()["source"] == "config"
    names = client.get("/v1/admin/policies", headers=admin).json()["policies"]
    assert names == [{"name": "support"}]
    changes = client.get("/v1/audit", params={"kind": "policy_change"}, headers=admin).json()
    assert [r["record"]["effect"] for r in changes["records"]] == ["deny", "allow", "allow"]


def test_approvals_list_approve_and_the_call_then_passes(client: TestClient) -> None:
    admin = bearer(ADMIN_KEY)
    call = {
        "action": "write:refund",
        "agent": "support-bot",
        "user": "alice",
        "args": {"amount": 500},
    }
    held = client.post("/v1/check", json=call, headers=bearer(PEP_KEY)).json()
    assert held["effect"] == "require_approval"
    pending = client.get(
        "/v1/admin/approvals", params={"status": "pending"}, headers=bearer(AUDITOR_KEY)
    ).json()["approvals"]
    assert len(pending) == 1
    approval_id = pending[0]["approval_id"]
    cannot = client.post(
        f"/v1/admin/approvals/{approval_id}/approve",
        json={"by": "lead"},
        headers=bearer(AUDITOR_KEY),
    )
    assert cannot.status_code == 403
    decided = client.post(
        f"/v1/admin/approvals/{approval_id}/approve",
        json={"reason": "ok"},
        headers=admin,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    passed = client.post("/v1/check", json=call, headers=bearer(PEP_KEY)).json()
    assert passed["effect"] == "allow"
    missing = client.post("/v1/admin/approvals/nope/reject", json={}, headers=admin)
    assert missing.status_code == 404
