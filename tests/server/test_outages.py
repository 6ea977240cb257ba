"""PostgreSQL restarted under a running gateway: it recovers by itself, idle and under load.

The cluster is this module's own (restarting the session's would cut every other
test's connections). ``pg_ctl restart -m immediate`` kills every backend, so each
pooled connection is dead when the server is back: the gateway must check its
connections out healthily, and take records again without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from proctor.storage.postgres.audit_store import PostgresAuditStore
from tests.postgres_cluster import Cluster, start_cluster
from tests.server.gateway import (
    PEP_KEY,
    ServerProcess,
    checks_under_load,
    seconds_until_ready,
    start_server,
    write_config,
)

pytestmark = pytest.mark.slow

RECOVERY_SECONDS = 5.0
THREADS = 4
CHECK = {"action": "read:orders", "agent": "support-bot", "user": "alice"}
Answer = tuple[str, str, str | None]  # decision id, effect, code


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    cluster = start_cluster(restartable=True)
    yield cluster
    cluster.stop()


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}, timeout=30.0)


def _seconds_until_ready(url: str) -> float:
    return seconds_until_ready(url, 3 * RECOVERY_SECONDS)


def _assert_answers_match_records(url: str, answers: list[Answer]) -> None:
    """Every allow a client saw is recorded as an allow; the chain verifies."""
    store = PostgresAuditStore(url)
    try:
        allowed = [decision_id for decision_id, effect, _ in answers if effect == "allow"]
        missing = [
            i for i in allowed if (record := store.get(i)) is None or record["effect"] != "allow"
        ]
        assert not missing, f"{len(missing)} of {len(allowed)} answered allows are not recorded"
        report = store.verify()
        assert report.ok, report.problem
    finally:
        store.close()


def _serving(tmp_path: Path, cluster: Cluster, name: str) -> tuple[ServerProcess, str]:
    url = cluster.database(name)
    return start_server(write_config(tmp_path), db=url), url


def test_an_idle_gateway_recovers_from_a_restart(tmp_path: Path, own_cluster: Cluster) -> None:
    server, url = _serving(tmp_path, own_cluster, "idle")
    try:
        with _client(server.url) as client:
            assert client.post("/v1/check", json=CHECK).json()["effect"] == "allow"
        own_cluster.restart()  # returns once the database answers
        waited = _seconds_until_ready(server.url)
        assert waited < RECOVERY_SECONDS, f"ready again after {waited:.1f} s"
        with _client(server.url) as client:
            body = client.post("/v1/check", json=CHECK).json()
    finally:
        server.stop()
    _assert_answers_match_records(url, [(body["decision_id"], body["effect"], body.get("code"))])
    log = server.log.read_text()
    assert "Traceback" not in log, log


def test_a_gateway_under_load_recovers_from_a_restart(tmp_path: Path, own_cluster: Cluster) -> None:
    server, url = _serving(tmp_path, own_cluster, "loaded")
    try:
        with checks_under_load(server.url, THREADS) as answers:
            own_cluster.restart()
            waited = _seconds_until_ready(server.url)
            before = len(answers)
            while len(answers) < before + 50:  # and keeps going after
                time.sleep(0.01)
    finally:
        server.stop()
    assert waited < RECOVERY_SECONDS, f"ready again after {waited:.1f} s"
    codes = {a.get("code") for a in answers if a["effect"] != "allow"}
    assert codes <= {"audit_unavailable"}, codes
    _assert_answers_match_records(
        url, [(a["decision_id"], a["effect"], a.get("code")) for a in answers]
    )
