"""A spill write that fails midway leaves no torn line for the next spill to be glued to.

A real process, a real SQLite store and a real failing write: the child lowers its
file size limit (``RLIMIT_FSIZE``) so that a spilled record's line is cut by
``EFBIG`` partway, then lifts it and spills again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from proctor.storage.spill import TORN

CHILD = """
import os, resource, sys
from proctor.storage.sqlite.audit_store import SqliteAuditStore
from tests.audit.factories import make_event

path = sys.argv[1]
store = SqliteAuditStore(path)
store.append(make_event(1), wait=True)
store.append(make_event(2), wait=True)
store.flush()
files = [path, path + "-wal", path + "-shm", path + ".spill.jsonl"]
biggest = max(os.path.getsize(f) for f in files if os.path.exists(f))
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (biggest + 4096, hard))
# Too long to fit: the database write fails, the store fails, and the spill is cut.
try:
    store.append(make_event(3, args={"note": "x" * 200_000}), wait=True)
except Exception as exc:
    print("refused:", exc.code, file=sys.stderr)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
store.close()
store = SqliteAuditStore(path)  # reopened: a duplicate decision id is refused and spilled
try:
    store.append(make_event(2, reason="the second refusal"), wait=True)
except Exception as exc:
    print("refused:", exc.code, file=sys.stderr)
store.close()
"""


def _run_child(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_a_spill_cut_midway_leaves_every_line_readable(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    stderr = _run_child(path)
    assert stderr.count("refused: storage_unavailable") == 1, stderr[-2000:]
    assert stderr.count("refused: duplicate_record") == 1, stderr[-2000:]
    assert '"decision_id": "dec-000003"' in stderr  # the cut spill went to stderr whole
    lines = Path(f"{path}.spill-kept.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line parses
    assert [e["record"]["reason"] for e in entries] == ["the second refusal"]


def test_a_torn_tail_left_by_a_killed_process_is_kept_as_one_readable_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.db"
    whole = json.dumps({"spill": {"code": "x", "reason": "y"}, "record": {"decision_id": "a"}})
    Path(f"{path}.spill.jsonl").write_text(whole + "\n" + whole[:30])  # died mid-write
    _run_child(path)
    # Opening the store replayed the spill: what no replay can chain is kept aside.
    kept = [json.loads(line) for line in Path(f"{path}.spill-kept.jsonl").read_text().splitlines()]
    assert kept[0]["record"] == {"decision_id": "a"}
    assert kept[1]["spill"]["code"] == TORN
    assert kept[1]["torn"] == whole[:30]
    assert kept[2]["record"]["reason"] == "the second refusal"
