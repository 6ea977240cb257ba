"""Approvals over HTTP: the credential is the approver, whatever the body says."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from proctor.clock import ManualClock
from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.server import create_app
from proctor.server.replays import REPLAY_WINDOW
from tests.server.conftest import bearer
from tests.server.gateway import AUDITOR_KEY, PEP_KEY, sha

CAROL_KEY = "pa_test-carol-key-0123456789"
MALLORY_KEY = "pa_test-mallory-key-0123456789"
DAVE_KEY = "pa_test-dave-key-0123456789"

POLICY = """\
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - id: big
    action: "write:refund"
    effect: require_approval
    when: "args.amount > 100"
    approvers: ["role:leads"]
"""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    (tmp_path / "policy.yaml").write_text(POLICY)
    config = tmp_path / "proctor.yaml"
    config.write_text(
        f"""\
policies: [policy.yaml]
roles:
  support: {{scopes: ["write:*"]}}
agents:
  - {{id: support-bot, role: support, tier: verified}}
users:
  dave: {{scopes: ["write:*"], claims: {{roles: [leads]}}}}
  carol: {{scopes: [], claims: {{roles: [leads]}}}}
  mallory: {{scopes: []}}
storage: {{audit: proctor.db}}
server:
  admin_keys:
    - {{id: carol, sha256: {sha(CAROL_KEY)}, scopes: ["approvals:write"]}}
    - {{id: mallory, sha256: {sha(MALLORY_KEY)}, scopes: ["approvals:write"]}}
    - {{id: dave, sha256: {sha(DAVE_KEY)}, scopes: ["approvals:write"]}}
    - {{id: pep, sha256: {sha(PEP_KEY)}, scopes: [check]}}
    - {{id: auditor, sha256: {sha(AUDITOR_KEY)}, scopes: ["audit:read"]}}
"""
    )
    loaded = load_config(config)
    app = create_app(build_runtime(loaded, wait_for_audit=False, clock=clock), config=loaded)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


CALL = {"action": "write:refund", "agent": "support-bot", "user": "dave", "args": {"amount": 500}}


def _held(client: TestClient) -> str:
    answer = client.post("/v1/check", json=CALL, headers=bearer(PEP_KEY)).json()
    assert answer["effect"] == "require_approval", answer
    return str(answer["obligations"][0]["approval_id"])


def _status(client: TestClient, approval_id: str) -> str:
    found = client.get("/v1/admin/approvals", headers=bearer(AUDITOR_KEY)).json()["approvals"]
    return str(next(item for item in found if item["approval_id"] == approval_id)["status"])


def _approval_records(client: TestClient) -> list[dict[str, Any]]:
    client.app.state.gateway.runtime.audit.flush()  # type: ignore[attr-defined]
    page = client.get("/v1/audit", params={"limit": 100}, headers=bearer(AUDITOR_KEY)).json()
    return [item["record"] for item in page["records"] if item["record"]["kind"] == "approval"]


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_a_key_that_is_no_approver_cannot_write_an_approver_s_name(
    client: TestClient, verb: str
) -> None:
    approval_id = _held(client)
    spoofed = client.post(
        f"/v1/admin/approvals/{approval_id}/{verb}",
        json={"by": "carol", "reason": "trust me"},
        headers=bearer(MALLORY_KEY),
    )
    assert spoofed.status_code == 403
    assert spoofed.json()["code"] == "approver_mismatch"
    as_itself = client.post(
        f"/v1/admin/approvals/{approval_id}/{verb}", json={}, headers=bearer(MALLORY_KEY)
    )
    assert as_itself.status_code == 403
    assert as_itself.json()["code"] == "approver_not_allowed"
    assert _status(client, approval_id) == "pending"
    assert _approval_records(client) == []
    passed = client.post("/v1/check", json=CALL, headers=bearer(PEP_KEY)).json()
    assert passed["effect"] == "require_approval"


def test_the_requester_cannot_approve_its_own_call_under_another_name(client: TestClient) -> None:
    approval_id = _held(client)  # dave asked, and dave's key holds approvals:write
    for body in ({"by": "carol"}, {"by": "dave"}, {}):
        answer = client.post(
            f"/v1/admin/approvals/{approval_id}/approve", json=body, headers=bearer(DAVE_KEY)
        )
        assert answer.status_code == 403, body
    assert _status(client, approval_id) == "pending"


@pytest.mark.parametrize("by", [["carol"], {"sub": "carol"}, 7, True, "", "c" * 201], ids=repr)
def test_by_that_is_not_one_short_string_is_a_400(client: TestClient, by: object) -> None:
    approval_id = _held(client)
    answer = client.post(
        f"/v1/admin/approvals/{approval_id}/approve", json={"by": by}, headers=bearer(CAROL_KEY)
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_body"
    assert _status(client, approval_id) == "pending"


def test_the_record_names_the_credential_and_a_replay_is_refused(client: TestClient) -> None:
    approval_id = _held(client)
    decided = client.post(
        f"/v1/admin/approvals/{approval_id}/approve",
        json={"by": "carol", "reason": "known customer"},  # naming itself is fine
        headers=bearer(CAROL_KEY),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "carol"
    [record] = _approval_records(client)
    assert record["extra"]["approver"] == "carol"
    assert record["extra"]["approver_roles"] == ["leads"]
    assert record["extra"]["credential"] == {"kind": "admin_key", "admin_key": "carol"}
    for verb in ("approve", "reject"):
        replayed = client.post(
            f"/v1/admin/approvals/{approval_id}/{verb}", json={}, headers=bearer(CAROL_KEY)
        )
        assert replayed.status_code == 409
    assert len(_approval_records(client)) == 1
    assert client.post("/v1/check", json=CALL, headers=bearer(PEP_KEY)).json()["allowed"]
    again = client.post("/v1/check", json=CALL, headers=bearer(PEP_KEY)).json()
    assert again["effect"] == "require_approval"  # once


def test_an_approved_call_is_not_let_through_again_by_replaying_its_request_id(
    client: TestClient, clock: ManualClock
) -> None:
    """A used-up approval's allow was handed back for its `request_id` at any time after,
    so each repeat could run the approved call again."""
    approval_id = _held(client)
    decided = client.post(
        f"/v1/admin/approvals/{approval_id}/approve", json={}, headers=bearer(CAROL_KEY)
    )
    assert decided.status_code == 200, decided.text
    keyed = {**CALL, "request_id": "pay-1"}
    first = client.post("/v1/check", json=keyed, headers=bearer(PEP_KEY)).json()
    assert first["allowed"], first
    clock.advance(seconds=60)
    retry = client.post("/v1/check", json=keyed, headers=bearer(PEP_KEY)).json()
    same = ("effect", "decision_id", "code")
    assert [retry[k] for k in same] == [first[k] for k in same]  # a retry: the first answer
    clock.advance(seconds=REPLAY_WINDOW)
    late = client.post("/v1/check", json=keyed, headers=bearer(PEP_KEY)).json()
    assert (late["effect"], late["code"]) == ("deny", "request_replayed")
    assert late["decision_id"] == first["decision_id"]  # nothing new recorded or charged
    assert client.post("/v1/check", json=CALL, headers=bearer(PEP_KEY)).json()["effect"] == (
        "require_approval"
    )
