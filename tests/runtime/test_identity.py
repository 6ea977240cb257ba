"""Identity wired from a config: key file, JWKS over loopback HTTP, stored agents, the example."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from proctor.clock import ManualClock
from proctor.config import load_config
from proctor.errors import ErrorGroup
from proctor.identity.errors import IdentityError
from proctor.identity.exchange import TokenExchangeRequest
from proctor.runtime import build_runtime
from proctor.runtime.identity import file_fetch, http_fetch
from proctor.storage.contracts import StoredAgent
from tests.identity import factory as f

EXAMPLE = Path(__file__).parents[2] / "examples" / "sales_assistant"


class _Jwks(BaseHTTPRequestHandler):
    document: dict = f.IDP_JWKS
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = json.dumps(self.document).encode()
        self.send_response(200 if self.path == "/jwks.json" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """A JWKS served on a loopback port (plain http is allowed for loopback hosts only)."""
    server = HTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path: Path, extra: str) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "ex")
    path = tmp_path / "ex" / "proctor.yaml"
    path.write_text(path.read_text() + extra)
    return path


def test_jwks_over_loopback_http_and_from_a_file(jwks_url: str, tmp_path: Path) -> None:
    assert http_fetch(jwks_url)()["keys"]
    with pytest.raises(IdentityError):
        http_fetch(jwks_url.replace("jwks.json", "missing"))()
    (tmp_path / "jwks.json").write_text(json.dumps(f.IDP_JWKS))
    assert file_fetch(tmp_path / "jwks.json")()["keys"]
    with pytest.raises(IdentityError):
        file_fetch(tmp_path / "nope.json")()


def test_a_configured_idp_end_to_end(jwks_url: str, tmp_path: Path) -> None:
    extra = (
        "  issuers:\n"
        f"    - issuer: {f.IDP}\n"
        f"      audiences: [{f.API}]\n"
        f"      jwks_url: {jwks_url}\n"
        "      group_scopes: {sales-leads: ['write:refund']}\n"
    )
    clock = ManualClock(f.NOW)
    runtime = build_runtime(_config(tmp_path, extra), audit=":memory:", clock=clock)
    try:
        token = f.user_token("alice", "read:*", groups=["sales-leads"])
        request = TokenExchangeRequest(subject_token=token)
        issued = runtime.exchange(request, actor="sales-assistant")
        assert issued.response.scope == "read:crm read:orders write:refund"
        assert runtime.check(
            "write:refund", token=issued.response.access_token, args={"amount": 5}
        ).allowed
        key_file = tmp_path / "ex" / "proctor-keys.json"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    finally:
        runtime.close()


def test_plain_http_only_for_loopback(tmp_path: Path) -> None:
    extra = (
        "  issuers:\n"
        "    - issuer: https://idp\n"
        "      audiences: [a]\n"
        "      jwks_url: http://idp.example/jwks.json\n"
    )
    with pytest.raises(ErrorGroup) as caught:
        load_config(_config(tmp_path, extra))
    assert "https" in caught.value.errors[0].message


def test_stored_agents_join_the_registry(tmp_path: Path) -> None:
    path = _config(tmp_path, "")
    db = str(tmp_path / "audit.db")
    first = build_runtime(path, audit=db)
    assert first.identity is not None
    first.identity.store.put_agent(StoredAgent("cli-bot", "refunds", "verified"))
    first.identity.store.put_agent(StoredAgent("gone-bot", "refunds", "verified", revoked_at=1))
    first.close()
    second = build_runtime(path, audit=db)
    try:
        assert second.registry.get("cli-bot") is not None
        assert second.registry.get("gone-bot") is None
        assert second.check("read:orders", agent="cli-bot").allowed
    finally:
        second.close()


def test_the_sales_assistant_example_runs() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sales_scenario", EXAMPLE / "scenario.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from rich.console import Console

    console = Console(record=True, width=140)
    assert module.run(None, console)
    text = console.export_text()
    assert "invalid_scope" in text
    assert "audit chain verified" in text


def test_a_tier_rule_demotes_a_stored_agent_in_the_store(tmp_path: Path) -> None:
    path = _config(tmp_path, "")
    (path.parent / "policies" / "zz-tiers.yaml").write_text(
        "name: tiers\n"
        "rules: [{id: no-delete, action: 'delete:*', effect: deny}]\n"
        "tiers: [{id: noisy, demote: {to: unverified, when_denials: 2, window: 1h}}]\n"
    )
    db = str(tmp_path / "audit.db")
    first = build_runtime(path, audit=db)
    assert first.identity is not None
    first.identity.store.put_agent(StoredAgent("cli-bot", "refunds", "trusted"))
    first.close()
    second = build_runtime(path, audit=db)
    try:
        for _ in range(2):
            assert not second.check("delete:orders", agent="cli-bot").allowed
        assert second.identity is not None
        stored = second.identity.store.get_agent("cli-bot")
        assert stored is not None
        assert stored.tier == "unverified"
    finally:
        second.close()
    third = build_runtime(path, audit=db)  # a restart (or another replica) keeps it
    try:
        found = third.registry.get("cli-bot")
        assert found is not None
        assert found.tier.value == "unverified"
    finally:
        third.close()
