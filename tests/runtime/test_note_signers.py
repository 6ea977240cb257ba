"""The checkpoint key made on first use: processes starting together all read one whole key."""

from __future__ import annotations

import stat
from pathlib import Path

from proctor.runtime.note_signers import KeyFileSigner
from tests.together import run_together

STARTERS = 8
ROUNDS = 25


def test_signers_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    for round_number in range(ROUNDS):
        path = tmp_path / f"{round_number}" / "proctor-audit-key.pem"
        keys = run_together(STARTERS, lambda: KeyFileSigner(path, "test/log").public_key)  # noqa: B023
        assert len(set(keys)) == 1, keys  # one key, and no half-written file read
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
