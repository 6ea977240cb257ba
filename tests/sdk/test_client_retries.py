"""A check whose connection breaks before the answer is sent once more, and decided once.

A real gateway behind a real TCP proxy that breaks the first connection: once
before the request reaches the gateway, once after the gateway answered (the
answer is thrown away and the client sees a reset). ``ProctorClient`` sends the
check again with the same ``request_id``; the gateway answers it from the first
decision, so a budget is charged once and the audit holds one record.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from proctor.sdk import ProctorClient
from proctor.storage import open_audit_store
from tests.server.gateway import PEP_KEY, ServerProcess, start_server, write_config
from tests.server.test_replicas import BUDGET_POLICY  # refunds of at most 100, 1000 a day

pytestmark = pytest.mark.slow


def _read_message(sock: socket.socket) -> bytes:
    """One HTTP/1.1 message (headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class BreakingProxy:
    """Forwards to ``upstream``; the first connection is broken as ``when`` says."""

    def __init__(self, upstream: int, when: str) -> None:
        self._upstream = upstream
        self._when = when
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            first = self.connections == 1
            threading.Thread(target=self._serve, args=(client, first), daemon=True).start()

    def _serve(self, client: socket.socket, first: bool) -> None:
        with socket.create_connection(("127.0.0.1", self._upstream)) as upstream:
            while request := _read_message(client):
                if first and self._when == "before":
                    _reset(client)
                    return
                upstream.sendall(request)
                answer = _read_message(upstream)
                if first and self._when == "after":
                    _reset(client)  # decided and recorded; the client never hears
                    return
                client.sendall(answer)
        client.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    directory = tmp_path_factory.mktemp("retries")
    config = write_config(directory)
    (directory / "policy.yaml").write_text(BUDGET_POLICY)
    server = start_server(config)
    with ProctorClient(server.url, token=PEP_KEY, timeout=60) as client:  # warm: scanners load
        assert client.check("read:orders", agent="support-bot", user="alice").decision_id
    yield server, directory
    server.stop()


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_broken_connection_is_retried_and_decided_once(
    gateway: tuple[ServerProcess, Path], when: str
) -> None:
    server, directory = gateway
    proxy = BreakingProxy(int(server.url.rsplit(":", 1)[1]), when)
    user = {"sub": f"user-{when}", "scopes": ["write:*"]}
    refund = {"agent": "support-bot", "user": user, "args": {"amount": 100}}
    try:
        with ProctorClient(proxy.url, token=PEP_KEY) as client:
            first = client.check("write:refund", **refund)
            rest = [client.check("write:refund", **refund) for _ in range(10)]
    finally:
        proxy.close()
    assert first.allowed, first.reason
    assert proxy.connections == 2  # the broken one and the retry's
    assert [d.allowed for d in rest] == [True] * 9 + [False]  # the first 100 was charged once
    assert rest[-1].code == "limit_exceeded"
    with open_audit_store(str(directory / "proctor.db")) as store:
        rows = store.query({"user_sub": f"user-{when}"}, since=None, until=None, after=0, limit=99)
    assert [row.decision_id for row in rows] == [d.decision_id for d in (first, *rest)]


def test_a_request_id_is_answered_from_the_first_decision(
    gateway: tuple[ServerProcess, Path],
) -> None:
    server, _ = gateway
    body = {
        "action": "write:refund",
        "agent": "support-bot",
        "user": {"sub": "user-keyed", "scopes": ["write:*"]},
        "args": {"amount": 100},
        "request_id": "order-17.refund",
    }
    headers = {"Authorization": f"Bearer {PEP_KEY}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        answers = [client.post("/v1/check", json=body).json() for _ in range(3)]
        other = client.post("/v1/check", json={**body, "args": {"amount": 99}}).json()
        bad = client.post("/v1/check", json={**body, "request_id": ["a"]})
        long = client.post("/v1/check", json={**body, "request_id": "x" * 129})
    assert [a["effect"] for a in answers] == ["allow"] * 3
    assert len({a["decision_id"] for a in answers}) == 1
    assert other["effect"] == "allow"
    assert other["decision_id"] != answers[0]["decision_id"]  # another body: another check
    assert bad.status_code == 400
    assert long.status_code == 400
