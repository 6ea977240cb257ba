"""A disk that fills under load: what each client was told agrees with what the audit says.

The running ``proctor serve`` gets a file size limit (``prlimit``: ``RLIMIT_FSIZE``)
just above its database's size, so its next writes fail as on a full disk while
clients keep sending checks. Every allow a client saw is committed in the chain;
every ``audit_unavailable`` deny is not (its record went to the spill file);
the chain verifies and every spill line parses.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import httpx
import pytest

from proctor.storage import open_audit_store
from tests.server.gateway import checks_under_load, start_server, write_config

pytestmark = pytest.mark.slow

THREADS = 6


def _fill_the_disk(pid: int, database: Path) -> None:
    files = [database, Path(f"{database}-wal")]
    biggest = max(f.stat().st_size for f in files if f.exists())
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (biggest + 16_384, resource.RLIM_INFINITY))


def test_answers_agree_with_the_audit_when_the_disk_fills(tmp_path: Path) -> None:
    server = start_server(write_config(tmp_path))
    database = tmp_path / "proctor.db"
    try:
        with checks_under_load(server.url, THREADS, going=200) as answers:
            _fill_the_disk(server.process.pid, database)
            while not any(a["effect"] == "deny" for a in answers[-THREADS:]):
                time.sleep(0.01)  # polling another process: nothing to inject
        assert httpx.get(f"{server.url}/readyz").status_code == 503
    finally:
        server.stop()
    allowed = [a["decision_id"] for a in answers if a["effect"] == "allow"]
    refused = [a["decision_id"] for a in answers if a["code"] == "audit_unavailable"]
    assert refused, "the disk never filled"
    assert len(allowed) + len(refused) == len(answers)
    with open_audit_store(str(database)) as store:
        assert [i for i in allowed if store.get(i) is None] == []
        assert [i for i in refused if store.get(i) is not None] == []
        assert store.verify().ok
    spill = Path(f"{database}.spill.jsonl")
    spilled = (
        [json.loads(line) for line in spill.read_text().splitlines()] if spill.exists() else []
    )
    assert all("record" in entry or "torn" in entry for entry in spilled)
