"""Counter, run and approval stores for the contract tests: every backend runs the same tests."""

from __future__ import annotations

from pathlib import Path

from proctor.storage.state import StateStores, open_state_stores

BACKENDS = ["memory", "sqlite"]


def open_backend(name: str, tmp_path: Path) -> StateStores:
    return open_state_stores(None if name == "memory" else str(tmp_path / "proctor.db"))
