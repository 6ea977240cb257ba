"""A real gateway over the customer-service scenario's audit, and one Chromium per module.

The database is filled by playing ``examples/customer_service`` (the demo),
then ``proctor serve``'s app runs under uvicorn on a free loopback port in a
thread of the test process, so a test can also wait on the gateway's
``ApprovalDesk`` (the SDK's) while the browser decides.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from proctor.cli.demo import load_scenario
from proctor.server.gateway import build_gateway
from proctor.server.state import GatewayState
from tests.server.gateway import free_port, sha

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "customer_service"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"
ROOT_KEY = "pa_ui-root-key-0123456789"
CAROL_KEY = "pa_ui-carol-key-0123456789"
AUDITOR_KEY = "pa_ui-auditor-key-0123456789"
PEP_KEY = "pa_ui-pep-key-0123456789"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def write_dashboard_config(directory: Path, db: Path) -> Path:
    """The example's config (policies, roles, agents, users) plus admin keys for the dashboard."""
    policies = directory / "policies"
    shutil.copytree(EXAMPLE / "policies", policies)
    text = (EXAMPLE / "proctor.yaml").read_text()
    text = text.replace("audit: proctor-demo.db", f'audit: "{db}"')
    text += f"""
identity: {{allow_dev_tokens: true}}
server:
  admin_keys:
    - {{id: root, sha256: {sha(ROOT_KEY)}, scopes: [admin]}}
    - {{id: carol, sha256: {sha(CAROL_KEY)}, scopes: ["audit:read", "approvals:write"]}}
    - {{id: auditor, sha256: {sha(AUDITOR_KEY)}, scopes: ["audit:read"]}}
    - {{id: pep, sha256: {sha(PEP_KEY)}, scopes: [check]}}
"""
    config = directory / "proctor.yaml"
    config.write_text(text)
    return config


@dataclass
class Gateway:
    url: str
    app: Starlette
    config: Path

    @property
    def state(self) -> GatewayState:
        state: GatewayState = self.app.state.gateway
        return state


def _serve(app: Starlette, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="proctor-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return server, thread
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.should_exit = True
    raise RuntimeError("the gateway did not start")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The demo's records in a SQLite file, served by the gateway app with the dashboard."""
    directory = tmp_path_factory.mktemp("dashboard")
    db = directory / "proctor.db"
    assert load_scenario().run(str(db), console=_quiet_console())
    config = write_dashboard_config(directory, db)
    app = build_gateway(str(config), None)
    port = free_port()
    server, thread = _serve(app, port)
    try:
        yield Gateway(f"http://127.0.0.1:{port}", app, config)
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the module (scripts/test-deps/chromium.sh installs it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _quiet_console() -> Any:
    from io import StringIO

    from rich.console import Console

    return Console(file=StringIO(), width=120)


@pytest.fixture(scope="module")
def dashboard_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The gateway app in-process (no browser), over a few real checks of the example policies."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    directory = tmp_path_factory.mktemp("dashboard-app")
    config = write_dashboard_config(directory, directory / "proctor.db")
    app = build_gateway(str(config), None)
    with TestClient(app, base_url="http://testserver") as client:
        pep = {"Authorization": f"Bearer {PEP_KEY}"}
        for user, amount in (("alice", 40), ("alice", 250), ("alice", 5000), ("bob", 20)):
            body = {
                "action": "write:refund",
                "agent": "support-bot",
                "user": user,
                "args": {"order_id": "A-1", "amount": amount},
            }
            assert client.post("/v1/check", json=body, headers=pep).status_code == 200
        yield client


def signed_in_client(client: Any, account: str, key: str) -> str:
    """Sign ``client`` in through the form; returns the session's CSRF token."""
    import re

    client.cookies.clear()
    page = client.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/ui/login",
        data={"csrf": token[1], "account": account, "key": key, "next": "/ui/feed"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    feed = client.get("/ui/feed")
    token = re.search(r'name="csrf" value="([^"]+)"', feed.text)
    assert token is not None
    return token[1]
