"""Signed policy bundles: built and signed by the CLI, served from a local HTTP server with
ETags, picked up by a gateway; tampered, unsigned or foreign-signed ones are refused with a
clear error and the last good set keeps deciding."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.cli.main import cli
from proctor.identity.registry import AgentRegistry
from proctor.model.request import Agent
from proctor.model.tiers import Tier
from proctor.policy.bundle import BUNDLE_SIGNATURE_INVALID, BUNDLE_UNSIGNED, build_bundle
from proctor.runtime import build_runtime
from proctor.runtime.bundles import BundleFollower, load_public_key
from proctor.server.gateway import build_gateway
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY, write_config

ALLOW = "name: reads\nrules:\n  - {id: reads, action: 'read:*', effect: allow}\n"
DENY = "name: reads\nrules:\n  - {id: no-reads, action: 'read:*', effect: deny}\n"


@dataclass
class BundleServer:
    """Serves one body with a strong ETag and counts how often it answered 304."""

    body: bytes = b""
    not_modified: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                etag = f'"{hashlib.sha256(served.body).hexdigest()}"'
                if self.headers.get("If-None-Match") == etag:
                    with served.lock:
                        served.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def served() -> Iterator[tuple[BundleServer, str]]:
    state = BundleServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/bundle.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    result = CliRunner().invoke(
        cli, ["policy", "bundle", "keygen", "--private", str(private), "--public", str(public)]
    )
    assert result.exit_code == 0, result.output
    assert private.stat().st_mode & 0o777 == 0o600
    return private, public


def _build(tmp_path: Path, text: str, key: Path) -> bytes:
    (tmp_path / "policy.yaml").write_text(text)
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(
        cli,
        ["policy", "bundle", "build", str(tmp_path / "policy.yaml"), "--key", str(key),
         "-o", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_a_served_bundle_is_picked_up_with_etags_and_a_tampered_one_refused(
    tmp_path: Path, keys: tuple[Path, Path], served: tuple[BundleServer, str]
) -> None:
    private, public = keys
    state, url = served
    state.body = _build(tmp_path, ALLOW, private)
    bot = Agent("bot", None, Tier.VERIFIED)
    runtime = build_runtime(audit=":memory:", registry=AgentRegistry({"bot": bot}))
    follower = BundleFollower(runtime, url, load_public_key(public))
    try:
        follower.poll_once()
        assert runtime.check("read:orders", agent="bot").rule_ids == ("reads",)
        follower.poll_once()
        assert state.not_modified == 1  # unchanged: one 304, nothing read again
        good = runtime.policies.digest
        tampered = json.loads(_build(tmp_path, ALLOW, private))
        tampered["sources"][0]["text"] = DENY  # changed after signing
        state.body = json.dumps(tampered).encode()
        follower.poll_once()
        assert follower.error is not None
        assert follower.error.code == BUNDLE_SIGNATURE_INVALID
        assert "changed after signing or signed by another key" in follower.error.message
        assert runtime.policies.digest == good  # the last good set keeps deciding
        assert runtime.check("read:orders", agent="bot").allowed
        unsigned = json.loads(_build(tmp_path, DENY, private))
        del unsigned["signature"]
        state.body = json.dumps(unsigned).encode()
        follower.poll_once()
        assert follower.error.code == BUNDLE_UNSIGNED
        state.body = build_bundle([("p.yaml", DENY)], Ed25519PrivateKey.generate())
        follower.poll_once()
        assert follower.error.code == BUNDLE_SIGNATURE_INVALID  # another key signed it
        assert runtime.check("read:orders", agent="bot").allowed
        state.body = _build(tmp_path, DENY, private)  # a good new one is taken
        follower.poll_once()
        assert follower.error is None
        assert runtime.check("read:orders", agent="bot").rule_ids == ("no-reads",)
        records = [r for r in runtime.audit.tail(50) if r["kind"] == "policy_activated"]
        assert [(r["effect"], r["extra"].get("error")) for r in records] == [
            ("allow", None),
            ("deny", BUNDLE_SIGNATURE_INVALID),
            ("deny", BUNDLE_UNSIGNED),
            ("deny", BUNDLE_SIGNATURE_INVALID),
            ("allow", None),
        ]
    finally:
        runtime.close()


def test_a_gateway_started_with_a_bundle_file_decides_with_it(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    bundle = tmp_path / "signed" / "bundle.json"
    bundle.parent.mkdir()
    bundle.write_bytes(_build(tmp_path / "signed", DENY, private))
    config = write_config(tmp_path)  # its own files allow reads; the bundle wins
    app = build_gateway(str(config), None, bundle=(str(bundle), str(public)))
    with TestClient(app) as client:
        body = {"action": "read:orders", "agent": "support-bot"}
        answer = client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).json()
    assert answer["rule_ids"] == ["no-reads"]
