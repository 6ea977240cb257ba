"""Agent, policy and approval administration over HTTP; every change audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

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


def _policy_names(client: TestClient) -> list[str]:
    listed = client.get("/v1/admin/policies", headers=bearer(ADMIN_KEY)).json()
    return [p["name"] for p in listed["policies"]]


@pytest.mark.parametrize("body", [{"texts": [""]}, {"texts": []}, {"texts": ["# nothing here\n"]}])
def test_a_reload_to_no_policies_is_refused_unless_asked_for(
    client: TestClient, body: dict[str, object]
) -> None:
    admin = bearer(ADMIN_KEY)
    refused = client.post("/v1/admin/policies/reload", json=body, headers=admin)
    assert refused.status_code == 409
    assert refused.json()["code"] == "policy_set_empty"
    assert _policy_names(client) == ["support"]
    assert client.get("/readyz").status_code == 200
    check = {"action": "read:orders", "agent": "support-bot"}
    assert client.post("/v1/check", json=check, headers=admin).json()["allowed"]
    wrong_type = client.post(
        "/v1/admin/policies/reload", json={**body, "allow_empty": "yes"}, headers=admin
    )
    assert wrong_type.status_code == 400
    asked = client.post(
        "/v1/admin/policies/reload", json={**body, "allow_empty": True}, headers=admin
    )
    assert asked.json()["policies"] == 0
    assert client.get("/readyz").status_code == 503
    changes = client.get("/v1/audit", params={"kind": "policy_change"}, headers=admin).json()
    assert [r["record"]["effect"] for r in changes["records"]] == ["deny", "allow"]
    assert changes["records"][0]["record"]["extra"]["error"] == "policy_set_empty"


def test_an_emptied_policy_file_is_not_reloaded(client: TestClient, config_path: Path) -> None:
    (config_path.parent / "policy.yaml").write_text("")
    refused = client.post("/v1/admin/policies/reload", headers=bearer(ADMIN_KEY))
    assert refused.status_code == 409
    assert refused.json()["code"] == "policy_set_empty"
    assert _policy_names(client) == ["support"]


def test_a_reload_the_audit_cannot_record_leaves_the_running_set(
    client: TestClient, config_path: Path
) -> None:
    with sqlite3.connect(config_path.parent / "proctor.db") as conn:
        conn.execute("DROP TABLE audit")  # the audit store fails at its next write
    tight = "name: tight\nrules: [{id: none, action: 'read:*', effect: deny}]\n"
    answer = client.post(
        "/v1/admin/policies/reload", json={"texts": [tight]}, headers=bearer(ADMIN_KEY)
    )
    assert answer.status_code == 503
    assert answer.json()["code"] == "storage_unavailable"
    assert _policy_names(client) == ["support"]


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


def _budget_policy(budget: int) -> str:
    return f"""\
name: support
rules:
  - {{id: small-refunds, action: "write:refund", effect: allow, when: "args.amount <= 100"}}
  - {{id: big-refunds, action: "write:refund", effect: require_approval, when: "args.amount > 100"}}
limits:
  - {{id: budget, action: "write:refund", sum: args.amount, max: {budget}, window: 1d, per: [user]}}
"""


def test_an_approved_call_a_budget_denies_keeps_its_approval(client: TestClient) -> None:
    admin, pep = bearer(ADMIN_KEY), bearer(PEP_KEY)
    reloaded = client.post(
        "/v1/admin/policies/reload", json={"texts": [_budget_policy(500)]}, headers=admin
    )
    assert reloaded.status_code == 200, reloaded.text

    def refund(amount: int) -> dict[str, object]:
        call = {"action": "write:refund", "agent": "support-bot", "user": "alice"}
        answer: dict[str, object] = client.post(
            "/v1/check", json={**call, "args": {"amount": amount}}, headers=pep
        ).json()
        return answer

    for _ in range(3):
        assert refund(100)["allowed"]
    held = refund(300)
    assert held["effect"] == "require_approval"
    approval_id = held["obligations"][0]["approval_id"]  # type: ignore[index]
    decided = client.post(
        f"/v1/admin/approvals/{approval_id}/approve", json={"by": "root"}, headers=admin
    )
    assert decided.status_code == 200, decided.text
    over = refund(300)
    assert over["code"] == "limit_exceeded"
    assert f"approval `{approval_id}` stays" in str(over["reason"])
    approved = client.get(
        "/v1/admin/approvals", params={"status": "approved"}, headers=admin
    ).json()["approvals"]
    assert [a["approval_id"] for a in approved] == [approval_id]
    client.post("/v1/admin/policies/reload", json={"texts": [_budget_policy(1000)]}, headers=admin)
    passed = refund(300)
    assert passed["allowed"]
    assert passed["code"] == "approved"
    assert refund(300)["effect"] == "require_approval"  # spent by the call that passed
