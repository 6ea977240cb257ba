"""Audit stores for the contract tests: every backend runs the same tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.storage.memory import MemoryAuditStore
from proctor.storage.protocols import AuditStore
from proctor.storage.sqlite.audit_store import SqliteAuditStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    opened: AuditStore
    if request.param == "memory":
        opened = MemoryAuditStore()
    else:
        opened = SqliteAuditStore(tmp_path / "audit.db")
    yield opened
    opened.close()
