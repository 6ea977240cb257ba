"""The checkpoint key made on first use: processes starting together all read one whole key."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from proctor.runtime.note_signers import KeyFileSigner

STARTERS = 8
ROUNDS = 25


def _start_together(path: Path) -> list[bytes | Exception]:
    together = threading.Barrier(STARTERS)
    keys: list[bytes | Exception] = []

    def start() -> None:
        together.wait()
        try:
            keys.append(KeyFileSigner(path, "test/log").public_key)
        except Exception as exc:  # collected: the assertion below names it
            keys.append(exc)

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return keys


def test_signers_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    for round_number in range(ROUNDS):
        path = tmp_path / f"{round_number}" / "proctor-audit-key.pem"
        keys = _start_together(path)
        assert len(set(keys)) == 1, keys  # one key, and no half-written file read
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
