"""The gateway's checkpointer publishes to its witnesses: a webhook and the export stream;
an auditor verifies the database against what the webhook witness kept, by URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.config import load_config
from proctor.runtime import build_runtime
from proctor.server import create_app
from tests.judge_server import QuietHandler, loopback_server
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY, write_config


@pytest.fixture
def witness() -> Iterator[tuple[str, list[str]]]:
    """A witness on loopback: keeps each note POSTed, serves them all on GET."""
    notes: list[str] = []

    class Witness(QuietHandler):
        def do_POST(self) -> None:
            notes.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            body = "".join(note + "\n" for note in notes).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with loopback_server(Witness) as base:
        yield f"{base}/witness", notes


def test_the_last_checkpoint_reaches_every_witness(
    tmp_path: Path, witness: tuple[str, list[str]]
) -> None:
    url, notes = witness
    config = write_config(
        tmp_path,
        extra=(
            "export: {sink: 'file:export.jsonl'}\n"
            "audit:\n"
            "  checkpoints: {every_records: 100000, every_seconds: 3600,"
            f" witnesses: ['{url}', export]}}\n"
        ),
    )
    loaded = load_config(config)
    app = create_app(build_runtime(loaded, wait_for_audit=True), config=loaded)
    with TestClient(app, raise_server_exceptions=False) as client:
        for action in ("read:orders", "delete:orders"):
            body = {"action": action, "agent": "support-bot"}
            assert client.post("/v1/check", json=body, headers=bearer(PEP_KEY)).status_code == 200
    # stopping made the last checkpoint and published it
    assert len(notes) == 1
    exported = [json.loads(line) for line in (tmp_path / "export.jsonl").read_text().splitlines()]
    assert [(e.get("kind"), e.get("note")) for e in exported if e.get("kind") == "checkpoint"] == [
        ("checkpoint", notes[0])
    ]
    runner = CliRunner()
    key = runner.invoke(cli, ["audit", "public-key", "--config", str(config)]).output.strip()
    result = runner.invoke(
        cli,
        ["audit", "verify", "--config", str(config), "--checkpoints", url, "--key", key, "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
