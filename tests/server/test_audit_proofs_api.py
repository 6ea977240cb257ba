"""`GET /v1/audit/checkpoint` and `GET /v1/audit/{id}/proof`: what the gateway gives auditors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.audit.note import NoteVerifier
from proctor.audit.proofs import verify_inclusion
from proctor.cli.main import cli
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import AUDITOR_KEY, PEP_KEY, write_config

# The gateway's own checkpointer is off here: the test makes checkpoints when it wants them.
MANUAL = "audit: {checkpoints: {enabled: false, key_file: keys/audit.pem}}\n"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:  # the `client` fixture (conftest) serves this config
    return write_config(tmp_path, extra=MANUAL)


def cli_run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def check(client: TestClient, action: str) -> str:
    body = {"action": action, "agent": "support-bot"}
    decision_id: str = client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).json()[
        "decision_id"
    ]
    return decision_id


def test_before_any_checkpoint_the_routes_say_so(client: TestClient) -> None:
    decision_id = check(client, "read:orders")
    missing = client.get("/v1/audit/checkpoint", headers=bearer(AUDITOR_KEY))
    assert (missing.status_code, missing.json()["code"]) == (404, "checkpoint_not_found")
    proof = client.get(f"/v1/audit/{decision_id}/proof", headers=bearer(AUDITOR_KEY))
    assert proof.status_code == 404


def test_a_proof_from_the_gateway_verifies_offline(client: TestClient, config_path: Path) -> None:
    ids = [check(client, action) for action in ("read:orders", "delete:orders", "read:users")]
    note = cli_run("audit", "checkpoint", "--config", str(config_path))
    key = NoteVerifier.parse(cli_run("audit", "public-key", "--config", str(config_path)))
    latest = client.get("/v1/audit/checkpoint", headers=bearer(AUDITOR_KEY)).json()
    assert (latest["number"], latest["size"], latest["note"]) == (1, 3, note)
    for decision_id in ids:
        document = client.get(f"/v1/audit/{decision_id}/proof", headers=bearer(AUDITOR_KEY)).json()
        assert verify_inclusion(document, key).ok
    later = check(client, "read:more")
    uncovered = client.get(f"/v1/audit/{later}/proof", headers=bearer(AUDITOR_KEY))
    assert (uncovered.status_code, uncovered.json()["code"]) == (409, "audit_not_checkpointed")
    edited = json.loads(json.dumps(document).replace("read:users", "read:admins"))
    assert not verify_inclusion(edited, key).ok


def test_proof_routes_need_audit_read_and_check_their_input(client: TestClient) -> None:
    decision_id = check(client, "read:orders")
    assert client.get(f"/v1/audit/{decision_id}/proof", headers=bearer(PEP_KEY)).status_code == 403
    assert client.get("/v1/audit/checkpoint").status_code == 401
    bad = client.get(
        f"/v1/audit/{decision_id}/proof", params={"checkpoint": "x"}, headers=bearer(AUDITOR_KEY)
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_query")
    other = client.get(
        f"/v1/audit/{decision_id}/proof", params={"leaf": "1"}, headers=bearer(AUDITOR_KEY)
    )
    assert other.status_code == 400
    unknown = client.get("/v1/audit/nope/proof", headers=bearer(AUDITOR_KEY))
    assert unknown.status_code == 404
