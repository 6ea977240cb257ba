"""SIGTERM under load: every request already sent on a keep-alive connection is answered.

Clients keep their connections open and send checks back to back. On SIGTERM the
gateway stops accepting, answers what was sent on each open connection with
``Connection: close``, then exits: a client sees either an answer or a refused new
connection (nothing sent), never a connection closed under a request it sent.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest

from proctor.storage import open_audit_store
from tests.server.gateway import PEP_KEY, start_server, write_config

pytestmark = pytest.mark.slow

THREADS = 8
CHECK = {"action": "read:orders", "agent": "support-bot", "user": "alice"}


class Tally:
    def __init__(self) -> None:
        self.answered: list[str] = []
        self.dropped: list[str] = []  # sent, then the connection closed with no answer
        self.going = threading.Event()


def _load(url: str, tally: Tally) -> None:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}, timeout=30.0
    ) as client:
        while True:
            try:
                response = client.post("/v1/check", json=CHECK)
            except httpx.ConnectError:
                return  # the listener is closed: this request was never sent
            except httpx.TransportError as exc:
                tally.dropped.append(repr(exc))
                return
            assert response.status_code == 200, response.text
            tally.answered.append(response.json()["decision_id"])
            if len(tally.answered) >= 100:
                tally.going.set()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_answers_what_was_sent_then_closes(tmp_path: Path, workers: int) -> None:
    """With ``--workers 2`` the SIGTERM goes to the supervisor, which passes it on."""
    server = start_server(write_config(tmp_path), workers=workers)
    tally = Tally()
    workers = [threading.Thread(target=_load, args=(server.url, tally)) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    try:
        assert tally.going.wait(30), "the load did not get going"
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(30)  # uvicorn re-raises the signal once it has drained
    finally:
        for worker in workers:
            worker.join(30)
        server.stop()
    assert "Traceback" not in server.log.read_text()
    assert not tally.dropped, f"{len(tally.dropped)} requests dropped: {tally.dropped[:3]}"
    with open_audit_store(str(tmp_path / "proctor.db")) as store:
        missing = [i for i in tally.answered if store.get(i) is None]
        assert not missing, f"{len(missing)} of {len(tally.answered)} answers are not recorded"
        assert store.verify().ok
