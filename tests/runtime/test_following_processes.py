"""Three ``proctor serve`` replicas and two SDK processes on one store (PostgreSQL, then
SQLite): a push, an agent created, its key rotated and the agent revoked, and a rollback
on one process reach every process within 2 s, checked by the decisions each one makes;
the status lists all five on one version. Real processes, so the waits are wall-clock,
each bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.gateway import ADMIN_KEY, AUDITOR_KEY, PEP_KEY, ServerProcess, sha, start_server

pytestmark = pytest.mark.slow

PROPAGATION_SECONDS = 2.0
ALLOW_READS = "name: reads\nrules:\n  - {id: reads, action: 'read:*', effect: allow}\n"
DENY_READS = "name: reads\nrules:\n  - {id: no-reads, action: 'read:*', effect: deny}\n"
WORKER = Path(__file__).with_name("sdk_worker.py")


def _config(directory: Path, audit: str) -> Path:
    path = directory / "proctor.yaml"
    path.write_text(
        f"""\
roles:
  support: {{scopes: ["read:*", "write:*"]}}
agents:
  - {{id: support-bot, role: support, tier: verified}}
users:
  alice: {{scopes: ["read:*", "write:*"]}}
storage: {{audit: "{audit}", policies: store, poll_seconds: 0.2, heartbeat_seconds: 0.5}}
identity: {{allow_dev_tokens: true}}
server:
  admin_keys:
    - {{id: root, sha256: {sha(ADMIN_KEY)}, scopes: [admin]}}
    - {{id: pep, sha256: {sha(PEP_KEY)}, scopes: [check]}}
    - {{id: auditor, sha256: {sha(AUDITOR_KEY)}, scopes: ["audit:read"]}}
"""
    )
    return path


@dataclass
class SdkProcess:
    process: subprocess.Popen[str]

    def check(self, agent: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"action": "read:orders", "agent": agent,
                                             "user": "alice"}) + "\n")  # fmt: skip
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _start_sdk(config: Path) -> SdkProcess:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # bounded by the process: it prints or exits
    assert line.strip() == "ready", line
    return SdkProcess(process)


@dataclass
class Cluster:
    servers: list[ServerProcess]
    sdks: list[SdkProcess]

    def decisions(self, agent: str = "support-bot") -> list[dict[str, Any]]:
        answers = [
            httpx.post(
                f"{server.url}/v1/check",
                json={"action": "read:orders", "agent": agent, "user": "alice"},
                headers={"Authorization": f"Bearer {PEP_KEY}"},
                timeout=10.0,
            ).json()
            for server in self.servers
        ]
        return answers + [sdk.check(agent) for sdk in self.sdks]

    def admin(self, index: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(
            f"{self.servers[index].url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=20.0,
        )
        assert response.is_success, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def status(self, index: int) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(
            f"{self.servers[index].url}/v1/status",
            headers={"Authorization": f"Bearer {AUDITOR_KEY}"},
            timeout=10.0,
        ).json()
        return answer


@pytest.fixture(params=["postgres", "sqlite"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    audit = request.getfixturevalue("postgres_url") if request.param == "postgres" else "proctor.db"
    config = _config(tmp_path, audit)
    with ExitStack() as stack, ThreadPoolExecutor(5) as pool:
        # started together: five interpreters boot in parallel
        servers = [pool.submit(start_server, config, timeout=60.0) for _ in range(3)]
        sdks = [pool.submit(_start_sdk, config) for _ in range(2)]
        started = Cluster([f.result() for f in servers], [f.result() for f in sdks])
        for server in started.servers:
            stack.callback(server.stop)
        for sdk in started.sdks:
            stack.callback(sdk.stop)
        yield started


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """How long until ``check()`` held (asserted to be under ``seconds``)."""
    started = time.monotonic()
    while not check():
        waited = time.monotonic() - started
        assert waited < seconds, f"not every process followed within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def _all(cluster: Cluster, agent: str, rule: str | None, allowed: bool) -> Callable[[], bool]:
    def check() -> bool:
        answers = cluster.decisions(agent)
        return all(
            a["allowed"] is allowed and (rule is None or a["rule_ids"] == [rule]) for a in answers
        )

    return check


def _keys_answer(cluster: Cluster, key: str, status: int) -> Callable[[], bool]:
    """Every replica answers a check sent with the agent's API ``key`` with ``status``."""

    def check() -> bool:
        return all(
            httpx.post(
                f"{server.url}/v1/check",
                json={"action": "read:orders"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=10.0,
            ).status_code
            == status
            for server in cluster.servers
        )

    return check


def test_every_process_follows_a_push_a_revocation_and_a_rollback(cluster: Cluster) -> None:
    before = cluster.decisions()
    assert all(a["rule_ids"] == ["policy-store-empty"] for a in before)  # nothing pushed yet

    first = cluster.admin(0, "/v1/admin/policies/reload", {"texts": [ALLOW_READS]})
    assert first["version"] == 1
    _within(PROPAGATION_SECONDS, _all(cluster, "support-bot", "reads", allowed=True))

    created = cluster.admin(
        1, "/v1/admin/agents", {"id": "temp-bot", "role": "support", "tier": "verified"}
    )
    _within(PROPAGATION_SECONDS, _all(cluster, "temp-bot", "reads", allowed=True))
    rotated = cluster.admin(0, "/v1/admin/agents/temp-bot/rotate", {})
    _within(PROPAGATION_SECONDS, _keys_answer(cluster, created["api_key"], 401))
    _within(PROPAGATION_SECONDS, _keys_answer(cluster, rotated["api_key"], 200))
    cluster.admin(2, "/v1/admin/agents/temp-bot/revoke", {})
    _within(PROPAGATION_SECONDS, _all(cluster, "temp-bot", None, allowed=False))
    assert {a["code"] for a in cluster.decisions("temp-bot")} == {"unknown_agent"}

    second = cluster.admin(1, "/v1/admin/policies/reload", {"texts": [DENY_READS]})
    assert second["version"] == 2
    _within(PROPAGATION_SECONDS, _all(cluster, "support-bot", "no-reads", allowed=False))
    cluster.admin(2, "/v1/admin/policies/activate", {"version": 1})
    _within(PROPAGATION_SECONDS, _all(cluster, "support-bot", "reads", allowed=True))

    def one_version() -> bool:
        status = cluster.status(0)
        return len(status["processes"]) == 5 and {
            p["policy_version"] for p in status["processes"]
        } == {1}

    _within(PROPAGATION_SECONDS, one_version)
    status = cluster.status(1)
    assert sorted(p["role"] for p in status["processes"]) == ["gateway"] * 3 + ["sdk"] * 2
    assert status["active"]["version"] == 1
    assert status["versions_in_use"] == [first["digest"]]
    assert all(p["lag_seconds"] == 0.0 for p in status["processes"])
