"""Audit stores for the contract tests: every backend runs the same tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.storage.contracts import AuditStore
from proctor.storage.memory import MemoryAuditStore
from proctor.storage.sqlite.audit_store import SqliteAuditStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    opened: AuditStore
    if request.param == "memory":
        opened = MemoryAuditStore()
    elif request.param == "postgres":
        from proctor.storage.postgres.audit_store import PostgresAuditStore

        url = request.getfixturevalue("postgres_url")
        opened = PostgresAuditStore(url, spill=str(tmp_path / "pg.spill.jsonl"))
    else:
        opened = SqliteAuditStore(tmp_path / "audit.db")
    yield opened
    opened.close()
