"""Signed webhook notifications of new approvals, received by a local HTTP server."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from proctor.errors import ProctorError
from proctor.runtime import build_runtime
from proctor.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ApprovalsConfig,
    ApprovalWebhook,
    WebhookConfig,
    approval_webhook,
    sign,
    verify_signature,
)

SECRET = b"s3cret"


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]]:
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_signatures_verify_and_expire() -> None:
    body = b'{"a": 1}'
    signature = sign(SECRET, 1_000, body)
    assert verify_signature(SECRET, "1000", body, signature, now=1_100)
    assert not verify_signature(SECRET, "1000", body + b" ", signature, now=1_100)
    assert not verify_signature(b"other", "1000", body, signature, now=1_100)
    assert not verify_signature(SECRET, "1000", body, signature, now=2_000)  # too old
    assert not verify_signature(SECRET, "soon", body, signature, now=1_000)


def test_a_new_approval_is_posted_signed_once(
    receiver: tuple[str, queue.Queue[tuple[dict[str, str], bytes]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = receiver
    config = tmp_path / "proctor.yaml"
    (tmp_path / "p.yaml").write_text(
        "name: p\nrules: [{action: 'write:refund', effect: require_approval}]\n"
    )
    config.write_text(
        "policies: [p.yaml]\n"
        "roles: {support: {scopes: ['*']}}\n"
        "agents: [{id: bot, role: support}]\n"
        f"approvals: {{webhook: {{url: '{url}', secret_env: TEST_HOOK_SECRET}}}}\n"
    )
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET.decode())
    runtime = build_runtime(config, audit=":memory:")
    user = {"sub": "alice", "scopes": ["*"]}
    first = runtime.check("write:refund", agent="bot", user=user, args={"amount": 150})
    runtime.check("write:refund", agent="bot", user=user, args={"amount": 150})  # same: no new
    headers, body = received.get(timeout=10)
    runtime.close()
    assert received.empty()
    message = json.loads(body)
    assert message["type"] == "approval.pending"
    assert message["approval"]["approval_id"] == first.obligations[0]["approval_id"]
    assert message["approval"]["args"] == {"amount": 150}
    timestamp = headers[TIMESTAMP_HEADER]
    assert verify_signature(
        SECRET, timestamp, body, headers[SIGNATURE_HEADER], now=float(timestamp)
    )


def test_a_failing_receiver_is_counted_and_never_raises(tmp_path: Path) -> None:
    from tests.storage.test_state_contract import _approval

    hook = ApprovalWebhook("http://127.0.0.1:9/nothing", SECRET, timeout=1, retry_pauses=())
    hook(_approval("a1"))  # only queues
    hook.close(timeout=10)
    assert (hook.sent, hook.failed) == (0, 1)


def test_the_secret_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    config = ApprovalsConfig(
        webhook=WebhookConfig(url="https://x.example", secret_env="NO_SUCH_SECRET")
    )
    with pytest.raises(ProctorError) as caught:
        approval_webhook(config)
    assert caught.value.code == "webhook_secret_missing"
    assert approval_webhook(ApprovalsConfig()) is None
