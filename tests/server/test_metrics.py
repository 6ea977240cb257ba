"""``/metrics`` of the real app: decisions by effect and code, stage latencies, approval waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.server import app as app_module
from proctor.server import create_app
from proctor.server.metrics import STAGE_SAMPLING
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY, write_config


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_of_decisions_stages_and_approval_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STAGE_SAMPLING", 1)  # every check's stages timed
    loaded = load_config(write_config(tmp_path))
    clock = StepClock()
    app = create_app(build_runtime(loaded, clock=clock), config=loaded)
    pep = bearer(PEP_KEY)
    with TestClient(app) as client:
        for action in ("read:a", "read:b", "delete:c"):
            client.post("/v1/check", json={"action": action, "agent": "support-bot"}, headers=pep)
        client.post("/v1/check", json={"action": "read:a", "agent": "nobody"}, headers=pep)
        refund = {"action": "write:refund", "agent": "support-bot", "user": "alice"}
        client.post("/v1/check", json={**refund, "args": {"amount": 500}}, headers=pep)
        client.post("/v1/check", json={**refund, "args": {"amount": 700}}, headers=pep)
        pending = client.get("/v1/admin/approvals", headers=bearer(AUDITOR_KEY)).json()
        first, second = (item["approval_id"] for item in pending["approvals"])
        admin = bearer(ADMIN_KEY)
        clock.now += timedelta(seconds=42)
        client.post(f"/v1/admin/approvals/{first}/approve", json={"by": "root"}, headers=admin)
        clock.now += timedelta(seconds=600)
        client.post(f"/v1/admin/approvals/{second}/reject", json={"by": "root"}, headers=admin)
        text = client.get("/metrics", headers=bearer(AUDITOR_KEY)).text
    found = samples(text)
    assert found[("proctor_decisions_total", (("effect", "allow"),))] == 2
    assert found[("proctor_decisions_total", (("effect", "require_approval"),))] == 2
    assert found[("proctor_decision_codes_total", (("code", "rule"), ("effect", "deny")))] == 1
    unknown = ("proctor_decision_codes_total", (("code", "unknown_agent"), ("effect", "deny")))
    assert found[unknown] == 1
    # every check resolved its caller and settled; the five known-agent checks ran the rest
    deciding = (
        ("resolve_caller", 6),
        *((stage, 5) for stage in ("validate", "placement", "run_owner", "scopes", "scan")),
        ("evaluate", 5),
    )
    stages = (*deciding, ("limits", 6), ("demotion", 6), ("record", 6))
    for stage, count in stages:
        assert found[("proctor_check_stage_seconds_count", (("stage", stage),))] == count, stage
        assert found[("proctor_check_stage_seconds_sum", (("stage", stage),))] > 0
    approved = (("outcome", "approved"),)
    assert found[("proctor_approval_wait_seconds_count", approved)] == 1
    assert found[("proctor_approval_wait_seconds_sum", approved)] == 42
    assert found[("proctor_approval_wait_seconds_sum", (("outcome", "rejected"),))] == 642
    assert ("proctor_audit_queue_depth", ()) in found


def test_stage_times_are_taken_on_one_check_in_eight_deciding_and_settling_alike(
    tmp_path: Path,
) -> None:
    loaded = load_config(write_config(tmp_path))
    app = create_app(build_runtime(loaded), config=loaded)
    checks = 3 * STAGE_SAMPLING
    with TestClient(app) as client:
        for _ in range(checks):
            body = {"action": "read:a", "agent": "support-bot"}
            assert client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).status_code == 200
        found = samples(client.get("/metrics", headers=bearer(AUDITOR_KEY)).text)
    assert found[("proctor_decisions_total", (("effect", "allow"),))] == checks
    for stage in ("resolve_caller", "evaluate", "limits", "record"):
        assert found[("proctor_check_stage_seconds_count", (("stage", stage),))] == 3, stage
