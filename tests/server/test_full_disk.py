"""A disk that fills under load and is freed again: SQLite takes records again by itself.

The database lives on a small tmpfs (16 MiB: room for the WAL, which grows to
4 MiB before a checkpoint) filled by a file beside it while clients keep
sending checks; where mounting is not permitted, the running
``proctor serve`` gets a file size limit (``RLIMIT_FSIZE``) just above its
database's size instead, and freeing lifts it. The spill file is on another
disk (``storage.spill``). Each client answer agrees with the audit: every allow
a client saw is an allow in the chain, every ``audit_unavailable`` deny is a
deny in the chain (spilled, then replayed once the disk is free), no decision
is there twice, the chain verifies, and the gateway is ready again within 5 s
of the disk being freed, without a restart.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from proctor.storage import open_audit_store
from tests.server.gateway import (
    AUDITOR_KEY,
    checks_under_load,
    seconds_until_ready,
    start_server,
    write_config,
)

pytestmark = pytest.mark.slow

THREADS = 6
RECOVERY_SECONDS = 5.0
REFUSED = "audit_unavailable"


class SmallDisk:
    """A 16 MiB tmpfs at ``directory`` (else a plain directory and a file size limit)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(directory)],
            capture_output=True,
            check=False,
        )
        self.mounted = done.returncode == 0
        self._filler = directory / "filler"

    def fill(self, pid: int, database: Path) -> None:
        if not self.mounted:
            files = [database, Path(f"{database}-wal")]
            biggest = max(f.stat().st_size for f in files if f.exists())
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (biggest + 16_384, resource.RLIM_INFINITY))
            return
        with self._filler.open("wb") as filler:
            written = -1
            while written != 0:  # until the disk takes no more
                written = _write_some(filler.fileno())

    def free(self, pid: int) -> None:
        if self.mounted:
            self._filler.unlink()
        else:
            infinite = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, infinite)

    def remove(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.directory)], check=False)


def _write_some(fd: int) -> int:
    """Bytes written, 0 once the disk is full."""
    try:
        return os.write(fd, b"\0" * 65_536)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.remove()


def _wait_for(condition: Any, what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)  # polling another process: nothing to inject


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


@pytest.mark.parametrize("workers", [1, 2])  # two: each leases its shard, one spill file
def test_a_full_disk_is_recorded_through_the_spill_and_left_without_a_restart(
    tmp_path: Path, small_disk: SmallDisk, workers: int
) -> None:
    if workers > 1 and not small_disk.mounted:
        pytest.skip("a file size limit is per process: the workers need a real small disk")
    database = small_disk.directory / "proctor.db"
    spill = tmp_path / "proctor.spill.jsonl"  # on another disk than the database
    config = write_config(tmp_path, audit=str(database), spill=str(spill))
    server = start_server(config, workers=workers)
    pid = server.process.pid
    try:
        with checks_under_load(server.url, THREADS, going=200) as answers:
            small_disk.fill(pid, database)
            _wait_for(lambda: sum(a.get("code") == REFUSED for a in answers) >= 50, "no denial")
            _wait_for(
                lambda: httpx.get(f"{server.url}/readyz").status_code == 503, "ready while full"
            )
            spilled_while_full = len(spill.read_text().splitlines())
            freed = time.monotonic()
            small_disk.free(pid)
            waited = seconds_until_ready(server.url, 3 * RECOVERY_SECONDS)
            recovered_in = time.monotonic() - freed
            before = len(answers)
            _wait_for(lambda: len(answers) > before + 100, "no checks after the recovery")
        metrics = httpx.get(
            f"{server.url}/metrics", headers={"Authorization": f"Bearer {AUDITOR_KEY}"}
        ).text
    finally:
        server.stop()
    assert waited < RECOVERY_SECONDS, f"ready again {recovered_in:.2f} s after the disk was freed"
    allowed = {a["decision_id"] for a in answers if a["effect"] == "allow"}
    refused = {a["decision_id"] for a in answers if a.get("code") == REFUSED}
    assert len(allowed) + len(refused) == len(answers)
    assert spilled_while_full > 0
    with open_audit_store(str(database), read_only=True) as store:
        rows = [json.loads(row.body) for row in store.iter_rows()]
        report = store.verify()
    recorded = {r["decision_id"]: r for r in rows}
    assert len(recorded) == len(rows), "a decision id is in the chain twice"
    assert [i for i in allowed if recorded.get(i, {}).get("effect") != "allow"] == []
    assert [i for i in refused if recorded.get(i, {}).get("code") != REFUSED] == []
    replayed = [r for r in rows if "replayed" in r["extra"]]
    assert replayed, "nothing was replayed"
    assert report.ok, report.problem
    verified = subprocess.run(
        [sys.executable, "-m", "proctor.cli", "audit", "verify", "--db", str(database)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert not spill.exists() or not spill.read_text()
    # scraped before the stop, whose replay takes what was spilled as the store resumed
    if workers == 1:  # else the scrape saw one worker's counts
        assert 0 < _metric(metrics, "proctor_audit_replayed_total") <= len(replayed)
        assert _metric(metrics, "proctor_audit_spilled_total") >= len(replayed)
    log = server.log.read_text()
    assert "writes again" in log, log[-3000:]
    print(  # the figures the fault suite reports (pytest -s)
        f"\nfull disk ({'tmpfs' if small_disk.mounted else 'RLIMIT_FSIZE'}, {workers} "
        f"worker(s)): ready "
        f"{recovered_in:.2f} s after freeing; {len(refused)} denials, {len(replayed)} records "
        f"replayed, {len(rows) - len(recorded)} duplicates"
    )
    with contextlib.suppress(OSError):
        database.unlink()
