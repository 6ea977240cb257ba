"""Two gateway replicas on one PostgreSQL: a shard each, one checkpoint over both, and a
replica killed mid-batch leaves every shard verifiable and every answered decision stored."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.storage.postgres.audit_store import PostgresAuditStore
from tests.server.gateway import AUDITOR_KEY, PEP_KEY, ServerProcess, start_server, write_config

pytestmark = pytest.mark.slow

CHECKPOINTS = (
    "audit:\n"
    "  checkpoints: {every_records: 40, every_seconds: 0.2, key_file: keys/audit.pem,"
    " witnesses: ['file:witness.txt']}\n"
)


def hammer(url: str, calls: int, answered: list[str], lock: threading.Lock) -> None:
    body = {"action": "read:orders", "agent": "support-bot"}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}) as client:
        for _ in range(calls):
            try:
                response = client.post("/v1/check", json=body, timeout=20.0)
            except httpx.TransportError:
                return  # the replica was killed
            if response.status_code == 200:
                with lock:
                    answered.append(response.json()["decision_id"])


def run_load(servers: list[ServerProcess], threads: int, calls: int) -> list[str]:
    answered: list[str] = []
    lock = threading.Lock()
    workers = [
        threading.Thread(target=hammer, args=(server.url, calls, answered, lock))
        for server in servers
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    return answered


def latest_size(url: str) -> int:
    response = httpx.get(
        f"{url}/v1/audit/checkpoint", headers={"Authorization": f"Bearer {AUDITOR_KEY}"}
    )
    return int(response.json()["size"]) if response.status_code == 200 else 0


def verify(tmp_path: Path, postgres_url: str) -> tuple[int, str]:
    runner = CliRunner()
    key = runner.invoke(cli, ["audit", "public-key", "--config", str(tmp_path / "proctor.yaml")])
    (tmp_path / "audit.pub").write_text(key.output)
    result = runner.invoke(
        cli,
        ["audit", "verify", "--db", postgres_url, "--checkpoints", str(tmp_path / "witness.txt"),
         "--key", str(tmp_path / "audit.pub"), "--json"],
    )  # fmt: skip
    return result.exit_code, result.output


def two_replicas(tmp_path: Path, postgres_url: str) -> tuple[ServerProcess, ServerProcess]:
    config = write_config(tmp_path, extra=CHECKPOINTS)
    return start_server(config, db=postgres_url), start_server(config, db=postgres_url)


def test_replicas_write_their_own_shards_under_one_checkpoint(
    tmp_path: Path, postgres_url: str
) -> None:
    first, second = two_replicas(tmp_path, postgres_url)
    try:
        answered = run_load([first, second], threads=4, calls=25)
        assert len(answered) == 200
        deadline = time.monotonic() + 30
        while latest_size(first.url) < 200 and time.monotonic() < deadline:
            time.sleep(0.1)  # another process makes the checkpoint
        assert latest_size(second.url) >= 200
    finally:
        first.stop()
        second.stop()
    store = PostgresAuditStore(postgres_url, read_only=True)
    try:
        heads = store.shard_heads()
        assert len([h for h in heads if h.size > 0]) == 2  # one shard per replica
        assert sum(h.size for h in heads) == 200
        assert all(store.get(decision_id) is not None for decision_id in answered)
    finally:
        store.close()
    code, output = verify(tmp_path, postgres_url)
    assert code == 0, output
    assert '"checked": 200' in output


def test_a_replica_killed_mid_batch_leaves_every_shard_verifiable(
    tmp_path: Path, postgres_url: str
) -> None:
    steady, doomed = two_replicas(tmp_path, postgres_url)
    answered: list[str] = []
    try:
        lock = threading.Lock()
        workers = [
            threading.Thread(target=hammer, args=(server.url, 60, answered, lock))
            for server in (steady, doomed)
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        while len(answered) < 150:
            time.sleep(0.01)
        doomed.stop(signal.SIGKILL)
        for worker in workers:
            worker.join(120)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and latest_size(steady.url) < len(answered):
            time.sleep(0.1)
    finally:
        steady.stop()
        doomed.stop(signal.SIGKILL)
    store = PostgresAuditStore(postgres_url, read_only=True)
    try:
        missing = [d for d in answered if store.get(d) is None]
        assert not missing  # every decision a client saw was committed before its answer
        assert store.verify().ok
    finally:
        store.close()
    code, output = verify(tmp_path, postgres_url)
    assert code == 0, output
