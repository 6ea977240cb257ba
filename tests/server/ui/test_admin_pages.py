"""Agents, policies and limits pages in-process: revoking a stored agent, counts on the pages."""

from __future__ import annotations

from typing import Any

from proctor.runtime.following import follower_of
from tests.server.ui.conftest import ROOT_KEY, signed_in_client

ORIGIN = {"Origin": "http://testserver"}


def test_revoking_a_stored_agent_from_the_dashboard(dashboard_app: Any) -> None:
    created = dashboard_app.post(
        "/v1/admin/agents",
        json={"id": "night-bot", "role": "support", "tier": "verified"},
        headers={"Authorization": f"Bearer {ROOT_KEY}"},
    )
    assert created.status_code == 201, created.text
    api_key = created.json()["api_key"]
    token = signed_in_client(dashboard_app, "root", ROOT_KEY)
    page = dashboard_app.get("/ui/agents")
    assert "Revoke night-bot" in page.text
    assert "Revoke support-bot" not in page.text  # config agents change in the file
    answer = dashboard_app.post("/ui/agents/night-bot/revoke", data={"csrf": token}, headers=ORIGIN)
    assert answer.status_code == 200
    assert "revoked night-bot" in answer.text
    check = dashboard_app.post(
        "/v1/check",
        json={"action": "read:orders"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert check.status_code == 401  # its key no longer works
    records = dashboard_app.get(
        "/v1/audit",
        params={"action": "agent:revoke"},
        headers={"Authorization": f"Bearer {ROOT_KEY}"},
    ).json()["records"]
    revoked = records[-1]["record"]
    assert revoked["reason"] == "agent `night-bot` revoked by `root`"
    assert revoked["extra"]["credential"] == {"kind": "dashboard", "admin_key": "root"}
    config_agent = dashboard_app.post(
        "/ui/agents/support-bot/revoke", data={"csrf": token}, headers=ORIGIN
    )
    assert "comes from the config file" in config_agent.text


def test_policies_count_rule_hits(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "root", ROOT_KEY)
    page = dashboard_app.get("/ui/policies").text
    assert "refund-small" in page
    assert "Refunds over $1,000 are never made by an agent" in page


def test_policies_show_the_set_digest_and_the_processes_on_the_store(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "root", ROOT_KEY)
    page = dashboard_app.get("/ui/policies").text
    runtime = dashboard_app.app.state.gateway.runtime
    assert f"<code>{runtime.policies.digest}</code>" in page
    assert "Processes on the store" in page
    follower = follower_of(runtime)
    assert follower is not None
    assert f"<code>{follower.process_id}</code>" in page


def test_limits_show_budget_use(dashboard_app: Any) -> None:
    signed_in_client(dashboard_app, "root", ROOT_KEY)
    page = dashboard_app.get("/ui/limits").text
    assert "refund-budget" in page
    assert "for user `alice`: 40 of 500 used" in page
    assert '<svg class="chart"' in page
