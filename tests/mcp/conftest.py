"""Real MCP servers and clients around a real `proctor mcp-proxy` process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from proctor.storage import open_audit_store

SERVERS = Path(__file__).parent / "servers" / "node_modules" / ".bin"
EVERYTHING = [str(SERVERS / "mcp-server-everything"), "stdio"]
FILESYSTEM = str(SERVERS / "mcp-server-filesystem")
BIN = Path(sys.executable).parent
TIME = [str(BIN / "mcp-server-time")]
GIT = str(BIN / "mcp-server-git")
PROXY = [sys.executable, "-m", "proctor.cli", "mcp-proxy"]
# A client that starts the proxy with an environment of its own runs this checkout's sources.
SOURCES = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}

CONFIG = """\
policies: [policy.yaml]
roles:
  assistant: {scopes: ["call:*", "read:*", "write:*", "delete:*", "get:*"]}
agents:
  - {id: desk-bot, role: assistant, tier: verified}
users:
  alice: {scopes: ["call:*", "read:*", "write:*", "delete:*", "get:*"]}
storage: {audit: audit.db}
mcp_proxy:
  servers:
    git:
      tools: {git_reset: "delete:repo", git_commit: "write:repo", git_status: "read:repo",
              git_log: "read:repo"}
    fs:
      tools: {write_file: "write:file", read_text_file: "read:file"}
"""
# The servers the tests start from the command line (`--name time`): a config that
# configures servers must name each one the proxy is started with.
DECLARED = """\
    time: {}
    everything: {}
    raw: {}
    sdk: {}
    conformance: {}
    poisoned: {}
"""
CONFIG += DECLARED

POLICY = """\
name: mcp-tools
rules:
  - {id: time-now, action: "call:time/get_current_time", effect: allow}
  - id: convert-needs-approval
    action: "call:time/convert_time"
    effect: require_approval
  - {id: everything-reads, action: "call:*", effect: allow,
     when: "context.tool.server == 'everything' AND context.tool.read_only == true"}
  - {id: everything-no-env, action: "call:everything/get-env", effect: deny}
  - {id: repo-reads, action: "read:repo", effect: allow}
  - {id: repo-writes, action: "write:repo", effect: allow}
  - {id: repo-deletes, action: "delete:repo", effect: deny, reason: "history is never rewritten"}
  - {id: file-reads, action: "read:file", effect: allow}
  - {id: file-writes, action: "write:file", effect: allow}
  - {id: fs-listing, action: "call:fs/list_allowed_directories", effect: allow}
  - {id: everything-resources, action: "read:everything/resource", effect: allow}
  - {id: everything-prompts, action: "get:everything/prompt", effect: allow}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "proctor.yaml").write_text(CONFIG)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


POISONED = [sys.executable, str(Path(__file__).parent / "servers" / "poisoned_server.py")]
SCANNING = """\
name: descriptions
scan:
  output:
    injection: deny
    secret: deny
    pii.email: redact
rules:
  - {id: tools, action: "*:*", effect: allow}
"""


@pytest.fixture
def scanning(workdir: Path) -> Path:
    """A policy that scans what servers send for injections, secrets and addresses."""
    (workdir / "policy.yaml").write_text(SCANNING)
    return workdir


@pytest.fixture
def node_servers() -> None:
    if not (SERVERS / "mcp-server-everything").exists():
        pytest.fail("the Node MCP servers are missing: run `make test-deps`")


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = shutil.which("git")
    assert git is not None

    def run(*args: str) -> None:
        subprocess.run([git, *args], cwd=repo, check=True, capture_output=True)

    run("init", "-q", "-b", "main")
    run("config", "user.email", "dev@example.com")
    run("config", "user.name", "Dev")
    (repo / "README.md").write_text("hello\n")
    run("add", "README.md")
    run("commit", "-q", "-m", "first")
    return repo


@asynccontextmanager
async def proxied(
    workdir: Path,
    command: list[str],
    *,
    name: str | None = None,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
    sampling: Any = None,
    logging: Any = None,
) -> AsyncIterator[ClientSession]:
    """A handshake-era `ClientSession` talking to the proxy over stdio."""
    args = [*PROXY[1:], "--config", str(workdir / "proctor.yaml"), *extra]
    if name is not None:
        args += ["--name", name]
    params = StdioServerParameters(
        command=PROXY[0],
        args=[*args, "--", *command],
        env={**SOURCES, "PROCTOR_AGENT": "desk-bot", "PROCTOR_USER": "alice", **(env or {})},
        cwd=str(workdir),
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, sampling_callback=sampling, logging_callback=logging) as session,
    ):
        await session.initialize()
        yield session


def audit_records(workdir: Path) -> list[dict[str, object]]:
    store = open_audit_store(str(workdir / "audit.db"))
    try:
        return sorted(store.tail(1000), key=lambda record: int(str(record["seq"])))
    finally:
        store.close()
