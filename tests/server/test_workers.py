"""``proctor serve --workers 2``: one chain, an exact budget and every answer committed."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.errors import ProctorError
from proctor.storage import open_audit_store
from tests.server.gateway import (
    ADMIN_KEY,
    AUDITOR_KEY,
    PEP_KEY,
    ServerProcess,
    start_server,
    write_config,
)

BUDGET_POLICY = """\
name: budget
rules:
  - {id: refunds, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: reads, action: "read:*", effect: allow}
  - {id: big, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
limits:
  - id: refund-budget
    action: "write:refund"
    sum: args.amount
    max: 500
    window: 1d
    per: [user]
"""
CLIENTS = 12
CALLS_PER_CLIENT = 16
AMOUNT = 10


def _client(url: str, index: int, answers: list[dict[str, object]], lock: threading.Lock) -> None:
    """One client on its own connection: refunds against the budget, reads between them."""
    refund = {"action": "write:refund", "agent": "support-bot", "user": "alice"}
    read = {"action": "read:orders", "agent": "support-bot", "user": "alice"}
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}, timeout=30.0
    ) as client:
        for call in range(CALLS_PER_CLIENT):
            body = {**refund, "args": {"amount": AMOUNT}} if (index + call) % 2 else read
            response = client.post("/v1/check", json=body)
            assert response.status_code == 200, response.text
            with lock:
                answers.append({**response.json(), "action": body["action"]})


def _two_workers_under_load(
    tmp_path: Path, db: str, then: Callable[[ServerProcess], None] | None = None
) -> None:
    export = "export: {sink: file:exported.jsonl, interval: 0.2}\n"
    config = write_config(tmp_path, extra=export)
    (tmp_path / "policy.yaml").write_text(BUDGET_POLICY)
    server = start_server(config, db=db, workers=2, timeout=60.0)
    _wait_for_workers(server.log, 2)
    answers: list[dict[str, object]] = []
    lock = threading.Lock()
    try:
        clients = [
            threading.Thread(target=_client, args=(server.url, index, answers, lock))
            for index in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(180)
        assert len(answers) == CLIENTS * CALLS_PER_CLIENT
        refunds = [a for a in answers if a["action"] == "write:refund"]
        allowed = [a for a in refunds if a["effect"] == "allow"]
        assert len(allowed) == 500 // AMOUNT  # exactly the budget, across both workers
        assert all(a["code"] == "limit_exceeded" for a in refunds if a["effect"] != "allow")
        assert all(a["effect"] == "allow" for a in answers if a["action"] == "read:orders")
        report = httpx.get(
            f"{server.url}/v1/audit/verify", headers={"Authorization": f"Bearer {AUDITOR_KEY}"}
        ).json()
        assert report["ok"] is True
        _exported_once(tmp_path / "exported.jsonl", report["checked"])
        if then is not None:
            then(server)
    finally:
        server.stop()
    store = open_audit_store(db)
    try:
        assert store.verify().ok
        missing = [a["decision_id"] for a in answers if store.get(str(a["decision_id"])) is None]
        assert not missing, "every answered decision is stored"
    finally:
        store.close()


def _exported_once(exported: Path, records: int) -> None:
    """The `export:` stream runs once (in the supervisor): every record, none twice."""
    deadline = time.monotonic() + 60.0
    while not exported.exists() or len(exported.read_text().splitlines()) < records:
        assert time.monotonic() < deadline, "the export fell behind"
        time.sleep(0.1)
    ids = [json.loads(line)["decision_id"] for line in exported.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == records


def _wait_for_workers(log: Path, count: int, timeout: float = 60.0) -> None:
    """Until ``count`` workers finished starting (the first answers ``/healthz`` alone)."""
    deadline = time.monotonic() + timeout
    while log.read_text().count("Application startup complete") < count:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


@pytest.mark.slow
def test_two_workers_on_sqlite(tmp_path: Path) -> None:
    def then(server: ServerProcess) -> None:
        _a_reload_reaches_both(server)
        _workers_end_with_a_killed_supervisor(server)

    _two_workers_under_load(tmp_path, str(tmp_path / "proctor.db"), then=then)


def _workers_end_with_a_killed_supervisor(server: ServerProcess) -> None:
    """SIGKILL to the supervisor: its workers get SIGTERM, drain and flush (then the store
    is checked for every answer, as after a clean stop)."""
    started = {
        int(line.rsplit("[", 1)[1].rstrip("]"))
        for line in server.log.read_text().splitlines()
        if "Started server process" in line
    }
    server.stop(signal.SIGKILL)
    deadline = time.monotonic() + 60.0
    while any(_alive(pid) for pid in started):
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.1)
    assert server.log.read_text().count("Finished server process") == 4


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _a_reload_reaches_both(server: ServerProcess) -> None:
    """A reload from the config's files replaces both workers; one from texts is refused."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    texts = httpx.post(
        f"{server.url}/v1/admin/policies/reload", json={"texts": [BUDGET_POLICY]}, headers=admin
    )
    assert texts.status_code == 409
    assert texts.json()["code"] == "reload_reaches_one_worker"
    policy = server.log.parent / "policy.yaml"
    policy.write_text(
        BUDGET_POLICY.replace("effect: allow}\n  - {id: big", "effect: deny}\n  - {id: big")
    )
    reloaded = httpx.post(f"{server.url}/v1/admin/policies/reload", headers=admin, timeout=30.0)
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["workers"].startswith("2 restarting")
    _wait_for_workers(server.log, 4, timeout=120.0)  # two replacements started
    deadline = time.monotonic() + 60.0
    while server.log.read_text().count("Finished server process") < 2:  # the old two stopped
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.1)
    read = {"action": "read:orders", "agent": "support-bot", "user": "alice"}
    for _ in range(8):  # a new connection each time: whichever worker takes it
        answer = httpx.post(
            f"{server.url}/v1/check", json=read, headers={"Authorization": f"Bearer {PEP_KEY}"}
        ).json()
        assert answer["effect"] == "deny", answer


@pytest.mark.slow
def test_two_workers_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    _two_workers_under_load(tmp_path, postgres_url)


def test_an_in_memory_store_refuses_more_than_one_worker(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = CliRunner().invoke(
        cli, ["serve", "--config", str(config), "--db", ":memory:", "--workers", "2"]
    )
    assert isinstance(result.exception, ProctorError)
    assert result.exception.code == "workers_need_shared_store"
    assert "in-memory audit store" in result.exception.message


@pytest.mark.parametrize("count", ["0", "-1", "257", "two", "1.5"])
def test_a_worker_count_out_of_range_is_a_usage_error(tmp_path: Path, count: str) -> None:
    config = write_config(tmp_path)
    result = CliRunner().invoke(cli, ["serve", "--config", str(config), "--workers", count])
    assert result.exit_code == 2
    assert "--workers" in result.output
