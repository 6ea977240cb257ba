"""Counter, run and approval stores for the contract tests: every backend runs the same tests."""

from __future__ import annotations

from pathlib import Path

from proctor.storage.contracts import StateStores
from proctor.storage.state import open_state_stores

BACKENDS = ["memory", "sqlite", "postgres"]


def open_backend(name: str, tmp_path: Path, postgres_url: str | None = None) -> StateStores:
    if name == "postgres":
        return open_state_stores(postgres_url)
    return open_state_stores(None if name == "memory" else str(tmp_path / "proctor.db"))
