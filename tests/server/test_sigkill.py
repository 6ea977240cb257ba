"""kill -9 under load: every decision a client received is in the audit, and the chain verifies.

The gateway answers a check only after its record is committed (group commit
on the audit writer), so an answer is a durable record even when the process
dies the next instant.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from proctor.storage import open_audit_store
from tests.server.gateway import PEP_KEY, start_server, write_config

pytestmark = pytest.mark.slow

THREADS = 8
MAX_PER_THREAD = 2_000
KILL_AFTER = 1.0


def _load(url: str, answered: list[str], stop: threading.Event) -> None:
    body = {"action": "read:orders", "agent": "support-bot", "user": "alice"}
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}, timeout=5.0
    ) as client:
        for _ in range(MAX_PER_THREAD):
            if stop.is_set():
                return
            try:
                response = client.post("/v1/check", json=body)
            except httpx.TransportError:
                return  # the server died mid-request: this one was not answered
            if response.status_code == 200:
                answered.append(response.json()["decision_id"])


def test_every_answered_decision_survives_a_sigkill(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    server = start_server(config)
    answered: list[str] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=_load, args=(server.url, answered, stop)) for _ in range(THREADS)
    ]
    for worker in workers:
        worker.start()
    time.sleep(KILL_AFTER)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    stop.set()
    for worker in workers:
        worker.join(10)
    assert len(answered) > 50, "the load did not get going"
    print(f"answered before the kill: {len(answered)}")
    restarted = start_server(config)  # opens (and so recovers) the same file
    restarted.stop()
    store = open_audit_store(str(tmp_path / "proctor.db"))
    try:
        missing = [decision_id for decision_id in answered if store.get(decision_id) is None]
        assert not missing, f"{len(missing)} of {len(answered)} answered decisions were lost"
        report = store.verify()
        assert report.ok, report.problem
        assert report.checked >= len(answered)
    finally:
        store.close()
