"""Where a check runs: on the event loop unless it may wait on a store (server/checks.py)."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from proctor.config import load_config
from proctor.runtime import Runtime, build_runtime
from proctor.server import create_app
from tests.server.conftest import bearer
from tests.server.gateway import ADMIN_KEY, PEP_KEY, sha

ROOT = Path(__file__).resolve().parents[2]


def readme_refunds_policy() -> str:
    """The README's `refunds` policy, as printed there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```yaml\n(name: refunds\n.*?)```", readme, re.DOTALL)
    assert found is not None, "the README shows no `refunds` policy"
    return found.group(1)


class StageThreads:
    """Each stage of each check, and whether it ran with the event loop on its thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.stages: list[tuple[str, bool]] = []
        passed_on = runtime._observe
        assert passed_on is not None

        def observe(stage: str, seconds: float) -> None:
            self.stages.append((stage, _on_event_loop()))
            passed_on(stage, seconds)

        runtime.observe_stages(observe)

    def take(self) -> dict[str, bool]:
        taken, self.stages = dict(self.stages), []
        return taken


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a worker thread: no loop runs there
        return False
    return True


@contextmanager
def serving(directory: Path, policy: str, scopes: str) -> Iterator[tuple[TestClient, StageThreads]]:
    """The gateway over one policy, its agent's role holding ``scopes``."""
    (directory / "policy.yaml").write_text(policy)
    config = directory / "proctor.yaml"
    config.write_text(
        f"""\
policies: [policy.yaml]
roles:
  support: {{scopes: {scopes}}}
agents:
  - {{id: support-bot, role: support, tier: verified}}
users:
  alice: {{scopes: ["read:*", "write:*"]}}
storage: {{audit: proctor.db}}
server:
  admin_keys:
    - {{id: root, sha256: {sha(ADMIN_KEY)}, scopes: [admin]}}
    - {{id: pep, sha256: {sha(PEP_KEY)}, scopes: [check]}}
"""
    )
    loaded = load_config(config)
    runtime = build_runtime(loaded, wait_for_audit=False)
    app = create_app(runtime, config=loaded)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, StageThreads(runtime)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, StageThreads]]:
    scopes = '["read:*", "write:refund", "write:email", "delete:*"]'
    with serving(tmp_path, readme_refunds_policy(), scopes) as served:
        yield served


def check(client: TestClient, action: str, **args: object) -> dict[str, object]:
    body = {"action": action, "agent": "support-bot", "user": "alice", "args": args}
    response = client.post("/v1/check", json=body, headers=bearer(PEP_KEY))
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_a_check_no_approval_rule_matches_runs_on_the_event_loop(
    served: tuple[TestClient, StageThreads],
) -> None:
    client, threads = served
    for action, args, effect in (
        ("write:refund", {"amount": 40}, "allow"),
        ("write:refund", {"amount": 5000}, "deny"),
        ("read:orders", {}, "deny"),  # no rule: the policy's default
    ):
        assert check(client, action, **args)["effect"] == effect
        stages = threads.take()
        assert {"evaluate", "limits", "record"} <= stages.keys()
        assert all(stages.values()), f"{action} {args} left the event loop: {stages}"


def test_a_held_check_settles_on_a_thread_and_its_approval_lets_it_through(
    served: tuple[TestClient, StageThreads],
) -> None:
    client, threads = served
    held = check(client, "write:refund", amount=250)
    assert held["effect"] == "require_approval"
    assert held["rule_ids"] == ["refund-needs-approval"]
    stages = threads.take()
    assert stages["evaluate"] is True  # decided on the loop
    assert stages["limits"] is False  # settled on a thread
    assert stages["record"] is False
    approval_id = next(
        o["approval_id"]
        for o in held["obligations"]  # type: ignore[attr-defined]
        if "approval_id" in o
    )
    approved = client.post(
        f"/v1/admin/approvals/{approval_id}/approve", json={}, headers=bearer(ADMIN_KEY)
    )
    assert approved.status_code == 200, approved.text
    again = check(client, "write:refund", amount=250)
    assert again["effect"] == "allow", again
    assert threads.take()["limits"] is False
    # the approval is spent: the same call is held again
    assert check(client, "write:refund", amount=250)["effect"] == "require_approval"
    records = client.get("/v1/audit", params={"action": "write:refund"}, headers=bearer(ADMIN_KEY))
    effects = [r["record"]["effect"] for r in records.json()["records"]]
    assert effects == ["require_approval", "approved", "allow", "require_approval"]


SCAN_HOLDS = """\
name: mail
scan:
  input:
    pii.email: require_approval
rules:
  - {id: mail, action: "write:email", effect: allow}
"""


@pytest.fixture
def scanning(tmp_path: Path) -> Iterator[tuple[TestClient, StageThreads]]:
    """A policy with no approval rule: only its `scan:` verdict holds a call."""
    with serving(tmp_path, SCAN_HOLDS, '["write:email"]') as served:
        yield served


def test_a_hold_from_a_scan_verdict_settles_on_a_thread_and_is_answered_as_held(
    scanning: tuple[TestClient, StageThreads],
) -> None:
    """No rule holds the call, the scan does: its approval is opened off the loop and the
    answer is the hold (never an allow), until a person approves that exact call once."""
    client, threads = scanning
    assert check(client, "write:email", body="no address here")["effect"] == "allow"
    assert all(threads.take().values())  # nothing to hold: decided and settled on the loop
    call = {"to": "bob@example.com", "body": "hello"}
    held = check(client, "write:email", **call)
    assert held["effect"] == "require_approval", held
    assert held["allowed"] is False
    stages = threads.take()
    assert stages["evaluate"] is True  # the scan and the rules ran on the loop
    assert stages["limits"] is False  # the approval store is touched on a thread
    assert stages["record"] is False
    approval_id = next(
        o["approval_id"]
        for o in held["obligations"]  # type: ignore[attr-defined]
        if "approval_id" in o
    )
    # the same call again while pending: the same approval, still held
    again = check(client, "write:email", **call)
    assert again["effect"] == "require_approval"
    assert approval_id in str(again["obligations"])
    approved = client.post(
        f"/v1/admin/approvals/{approval_id}/approve", json={}, headers=bearer(ADMIN_KEY)
    )
    assert approved.status_code == 200, approved.text
    assert check(client, "write:email", **{**call, "body": "other"})["effect"] == (
        "require_approval"
    )  # another call is not the approved one
    passed = check(client, "write:email", **call)
    assert passed["effect"] == "allow", passed
    assert threads.take()["limits"] is False
    assert check(client, "write:email", **call)["effect"] == "require_approval"  # spent
    records = client.get("/v1/audit", params={"action": "write:email"}, headers=bearer(ADMIN_KEY))
    effects = [r["record"]["effect"] for r in records.json()["records"]]
    assert effects.count("allow") == 2  # the plain call and the approved one
    assert effects[-1] == "require_approval"
