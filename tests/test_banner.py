"""The start-up banners: what `serve` and `mcp-proxy --listen` print on stderr, never a password.

The gateway's banner from a real process is in tests/cli/test_init.py.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from proctor.banner import policies_line, shown_database, startup_banner
from proctor.policy import CompiledPolicySet, load_policies
from tests.server.gateway import free_port

POLICY = "name: starter\nversion: 3\nrules:\n  - {action: 'read:*', effect: allow}\n"


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("proctor.db", "proctor.db"),
        ("postgresql://app@db.internal/proctor", "postgresql://app@db.internal/proctor"),
        ("postgresql://app:s3cret@db:5432/proctor", "postgresql://app:***@db:5432/proctor"),
        ("postgres://app:p%40ss@[::1]/x?sslmode=require", "postgres://app:***@[::1]/x?sslmode=require"),
        ("postgresql://:only-a-password@db/x", "postgresql://:***@db/x"),
        ("postgresql://db/x?user=a&password=s3cret&sslmode=require",
         "postgresql://db/x?user=a&password=***&sslmode=require"),
        ("postgresql://db/x?PASSWORD=s3cret", "postgresql://db/x?PASSWORD=***"),
    ],
)  # fmt: skip
def test_a_database_password_is_never_shown(location: str, shown: str) -> None:
    assert shown_database(location) == shown


def test_no_policy_says_every_call_is_denied() -> None:
    assert policies_line(CompiledPolicySet.empty(ZoneInfo("UTC"))) == (
        "none loaded: every call is denied"
    )
    banner = startup_banner(
        "proctor serve",
        address="http://127.0.0.1:8700",
        config=None,
        policies=load_policies(texts=[POLICY]),
        database="postgresql://u:pw@h/d",
        dashboard="http://127.0.0.1:8700/ui",
    )
    assert banner.splitlines() == [
        "proctor serve: listening on http://127.0.0.1:8700",
        "  config     (none)",
        "  policies   1 (starter v3), 1 rules",
        "  database   postgresql://u:***@h/d",
        "  dashboard  http://127.0.0.1:8700/ui",
    ]


def test_the_mcp_http_front_prints_its_banner_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, "-m", "proctor.cli", "mcp-proxy", "--policy", "policy.yaml",
         "--db", "audit.db", "--name", "time", "--listen", f"127.0.0.1:{port}",
         "--", sys.executable, "-c", "pass"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proxy.stderr is not None
        watch = selectors.DefaultSelector()
        watch.register(proxy.stderr, selectors.EVENT_READ)
        seen = b""
        while seen.count(b"\n") < 4 and watch.select(timeout=60):
            chunk = os.read(proxy.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        assert seen.decode().splitlines()[:4] == [
            f"proctor mcp-proxy: listening on http://127.0.0.1:{port}/mcp",
            "  config     (none)",
            "  policies   1 (starter v3), 1 rules",
            "  database   audit.db",
        ]
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
    assert proxy.stdout is not None
    assert proxy.stdout.read() == b""  # stdout stays clean
