"""``proctor demo`` end to end: every part runs and the audit chain verifies."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from proctor.cli.main import cli

pytestmark = pytest.mark.slow


def test_the_demo_masks_a_card_and_holds_a_payment_to_an_injected_iban(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "audit chain verified" in result.output
    assert "\u2014 proctor/demo " in result.output  # the signed checkpoint note
    assert "inclusion proof verified offline" in result.output
    assert "***************1111" in result.output
    assert "4111 1111 1111 1111" not in result.output
    assert "The IBAN came from a document" in result.output
    with sqlite3.connect(db) as connection:
        bodies = [json.loads(row[0]) for row in connection.execute("SELECT body FROM audit")]
    payments = [b for b in bodies if b["action"] == "write:payment" and b["kind"] == "decision"]
    assert [b["effect"] for b in payments] == ["require_approval", "allow"]
    assert payments[0]["extra"]["taint"]["iban"]["tool"] == "read_document"
    outputs = [b for b in bodies if b.get("kind") == "output"]
    assert any("injection" in f["type"] for o in outputs for f in o["extra"].get("findings", ()))
    assert not any("4111 1111 1111 1111" in json.dumps(b) for b in bodies)
    # the policies scan for no IBAN, yet no record keeps one (audit.store_args: redacted)
    for iban in ("GB82WEST12345698765432", "DE89370400440532013000"):
        assert not any(iban in json.dumps(b) for b in bodies)
    assert payments[0]["extra"]["args_redacted"] == [{"path": "$.iban", "type": "pii.iban"}]
