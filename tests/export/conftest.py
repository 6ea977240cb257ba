from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proctor.runtime import build_runtime

POLICY = """\
name: p
rules:
  - {id: reads, action: "read:*", effect: allow}
  - {id: refunds, action: "write:refund", effect: require_approval}
  - {id: no-delete, action: "delete:*", effect: deny, reason: "nothing is deleted"}
"""
CONFIG = """\
policies: [p.yaml]
roles: {support: {scopes: ["*"]}}
agents: [{id: support-bot, role: support, tier: verified}]
users: {alice: {scopes: ["*"], claims: {tenant: acme}}}
storage: {audit: audit.db, durability: sync}
"""
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
# one record an hour from START: 08:00 read, 09:00 delete, 10:00 refund, 11:00 read ...
ACTIONS = ("read:orders", "delete:customer", "write:refund", "read:invoices", "read:orders")


class HourlyClock:
    def __init__(self) -> None:
        self.now = START - timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


def record_checks(directory: Path, actions: tuple[str, ...] = ACTIONS, start: int = 0) -> Path:
    """``actions`` checked (and recorded) an hour apart into ``directory/audit.db``."""
    (directory / "p.yaml").write_text(POLICY)
    config = directory / "proctor.yaml"
    config.write_text(CONFIG)
    clock = HourlyClock()
    clock.now += timedelta(hours=start)
    runtime = build_runtime(config, clock=clock)
    for action in actions:
        clock.now += timedelta(hours=1)
        runtime.check(
            action,
            agent="support-bot",
            user="alice",
            args={"order": "A1"},
            resource="A1",
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        )
    runtime.close()
    return directory / "audit.db"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return record_checks(tmp_path)
