"""Shared set-up for the gateway tests: a config on disk, admin keys, a real server process."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ADMIN_KEY = "pa_test-admin-key-0123456789"
PEP_KEY = "pa_test-pep-key-0123456789"
AUDITOR_KEY = "pa_test-auditor-key-0123456789"

POLICY = """\
name: support
rules:
  - {id: read-all, action: "read:*", effect: allow}
  - {id: small-refunds, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: big-refunds, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
  - {id: no-delete, action: "delete:*", effect: deny}
"""


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def write_config(
    directory: Path,
    *,
    audit: str = "proctor.db",
    durability: str = "batched",
    extra: str = "",
    spill: str | None = None,
) -> Path:
    (directory / "policy.yaml").write_text(POLICY)
    config = directory / "proctor.yaml"
    config.write_text(
        f"""\
policies: [policy.yaml]
roles:
  support: {{scopes: ["read:*", "write:*", "delete:*"]}}
agents:
  - {{id: support-bot, role: support, tier: verified}}
  - {{id: other-bot, role: support, tier: verified}}
users:
  alice: {{scopes: ["read:*", "write:*"], claims: {{roles: [manager]}}}}
storage: {{audit: "{audit}", durability: {durability}{f', spill: "{spill}"' if spill else ""}}}
identity: {{allow_dev_tokens: true}}
server:
  max_body_bytes: 65536
  admin_keys:
    - {{id: root, sha256: {sha(ADMIN_KEY)}, scopes: [admin]}}
    - {{id: pep, sha256: {sha(PEP_KEY)}, scopes: [check]}}
    - {{id: auditor, sha256: {sha(AUDITOR_KEY)}, scopes: ["audit:read"]}}
{extra}"""
    )
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_server(
    config: Path,
    *,
    db: str | None = None,
    port: int | None = None,
    timeout: float = 20.0,
    workers: int = 1,
) -> ServerProcess:
    """``proctor serve`` in a subprocess on a loopback port, once ``/healthz`` answers.

    One worker process unless ``workers`` says more (the tests share two cores).
    """
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "proctor.cli",
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if db is not None:
        command += ["--db", db]
    log = config.parent / f"server-{port}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        command,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=config.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    handle.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                return ServerProcess(process, url, log)
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()}")


@contextmanager
def running_server(config: Path, **options: object) -> Iterator[ServerProcess]:
    server = start_server(config, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


LOAD_CHECK = {"action": "read:orders", "agent": "support-bot", "user": "alice"}


@contextmanager
def checks_under_load(url: str, threads: int, *, going: int = 50) -> Iterator[list[Any]]:
    """``threads`` clients sending checks back to back on keep-alive connections while
    the block runs; yields their answers (bodies), once ``going`` have come back."""
    answers: list[Any] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}, timeout=30.0
        ) as client:
            while not stop.is_set():
                answers.append(client.post("/v1/check", json=LOAD_CHECK).json())

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        while len(answers) < going:
            stop.wait(0.01)
        yield answers
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)


def seconds_until_ready(url: str, within: float) -> float:
    """Seconds from now until ``/readyz`` answers 200 and a check is allowed again
    (``inf`` when not within ``within`` seconds)."""
    started = time.monotonic()
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {PEP_KEY}"}, timeout=30.0
    ) as client:
        while time.monotonic() - started < within:
            ready = client.get("/readyz").status_code == 200
            if ready and client.post("/v1/check", json=LOAD_CHECK).json()["effect"] == "allow":
                return time.monotonic() - started
            time.sleep(0.05)  # polling another process: nothing to inject
    return float("inf")
