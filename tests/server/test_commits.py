"""The commit barrier: an answer waits for its record; a store that cannot commit means deny."""

from __future__ import annotations

from pathlib import Path

from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.server import create_app
from proctor.storage import SqliteAuditStore
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY

CHECK = {"action": "read:orders", "agent": "support-bot"}


def test_an_answered_check_is_already_committed(config_path: Path) -> None:
    loaded = load_config(config_path)
    runtime = build_runtime(loaded, wait_for_audit=False)
    with TestClient(create_app(runtime, config=loaded)) as client:
        answer = client.post("/v1/check", json=CHECK, headers=bearer(PEP_KEY)).json()
        other = SqliteAuditStore(str(config_path.parent / "proctor.db"))  # another reader
        try:
            assert other.get(answer["decision_id"]) is not None
        finally:
            other.close()


def test_a_store_that_cannot_write_turns_answers_into_denies(config_path: Path) -> None:
    loaded = load_config(config_path)
    runtime = build_runtime(loaded, wait_for_audit=False)
    with TestClient(create_app(runtime, config=loaded, close_runtime=False)) as client:
        runtime.audit.close()  # nothing can be recorded any more
        answer = client.post("/v1/check", json=CHECK, headers=bearer(PEP_KEY)).json()
        assert answer["effect"] == "deny"
        assert answer["code"] == "audit_unavailable"
        assert client.get("/readyz").status_code == 503
    runtime.close()
