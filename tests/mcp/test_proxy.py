"""Building a proxy: what it says at start-up about the caller it was given."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.mcp.conftest import PROXY, SOURCES
from tests.mcp.wires import UPSTREAMS


def _started(workdir: Path, user: str) -> str:
    run = subprocess.run(
        [*PROXY, "--config", str(workdir / "proctor.yaml"), "--name", "raw", "--"]
        + UPSTREAMS["raw"],
        input=b"",
        capture_output=True,
        cwd=workdir,
        env={**os.environ, **SOURCES, "PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": user},
        timeout=60,
    )
    return run.stderr.decode()


def test_an_unregistered_user_is_named_at_start_up(workdir: Path) -> None:
    said = _started(workdir, "mallory")
    assert "`PROCTOR_USER` `mallory` is not among the config's `users:`" in said
    assert "every call agent `desk-bot` makes for them is denied" in said
    assert "PROCTOR_USER" not in _started(workdir, "alice")
