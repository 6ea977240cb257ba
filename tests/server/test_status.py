"""``GET /v1/status``, the versions and activate routes, and the policy version gauge, in-process
over a gateway that decides with the store's versions (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.server import create_app
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY, write_config

DENY_READS = "name: reads\nrules:\n  - {id: no-reads, action: 'read:*', effect: deny}\n"


@pytest.fixture
def store_client(tmp_path: Path) -> Iterator[TestClient]:
    config = write_config(tmp_path)
    text = config.read_text().replace(
        "durability: batched}", "durability: batched, policies: store}"
    )
    config.write_text(text)
    loaded = load_config(config)
    runtime = build_runtime(loaded, role="gateway")
    with TestClient(create_app(runtime, config=loaded), raise_server_exceptions=False) as client:
        yield client


def _check(client: TestClient) -> dict[str, object]:
    body = {"action": "read:orders", "agent": "support-bot"}
    answer: dict[str, object] = client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).json()
    return answer


def test_reload_pushes_versions_and_activate_rolls_back(store_client: TestClient) -> None:
    admin = bearer(ADMIN_KEY)
    assert _check(store_client)["rule_ids"] == ["policy-store-empty"]
    first = store_client.post("/v1/admin/policies/reload", headers=admin).json()  # the files
    assert first["version"] == 1
    assert _check(store_client)["rule_ids"] == ["read-all"]
    second = store_client.post(
        "/v1/admin/policies/reload", json={"texts": [DENY_READS], "message": "lock down"},
        headers=admin,
    ).json()  # fmt: skip
    assert second["version"] == 2
    assert _check(store_client)["rule_ids"] == ["no-reads"]
    listed = store_client.get("/v1/admin/policies/versions", headers=bearer(AUDITOR_KEY)).json()
    assert listed["active"] == 2
    assert [v["message"] for v in listed["versions"]] == ["lock down", ""]
    rolled = store_client.post("/v1/admin/policies/activate", json={"version": 1}, headers=admin)
    assert rolled.status_code == 200
    assert _check(store_client)["rule_ids"] == ["read-all"]
    unknown = store_client.post("/v1/admin/policies/activate", json={"version": 9}, headers=admin)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "policy_version_unknown")
    for bad in ({"version": "1"}, {"version": [1]}, {"version": 0}, {}):
        refused = store_client.post("/v1/admin/policies/activate", json=bad, headers=admin)
        assert refused.status_code == 400, bad
    assert _check(store_client)["rule_ids"] == ["read-all"]  # nothing changed
    as_pep = store_client.post("/v1/admin/policies/activate", json={"version": 2},
                               headers=bearer(PEP_KEY))  # fmt: skip
    assert as_pep.status_code == 403


def test_status_and_the_gauge_list_this_process_and_its_version(store_client: TestClient) -> None:
    store_client.post("/v1/admin/policies/reload", headers=bearer(ADMIN_KEY))
    status = store_client.get("/v1/status", headers=bearer(AUDITOR_KEY)).json()
    (process,) = status["processes"]
    assert process["id"] == status["process"]["id"]
    assert (process["role"], process["policy_version"], process["state"]) == (
        "gateway", 1, "following",
    )  # fmt: skip
    assert status["active"]["version"] == 1
    assert process["lag_seconds"] == 0.0
    metrics = store_client.get("/metrics", headers=bearer(AUDITOR_KEY)).text
    assert f'proctor_policy_version{{process="{process["id"]}",role="gateway"}} 1.0' in metrics
    assert store_client.get("/v1/status", headers=bearer(PEP_KEY)).status_code == 403
