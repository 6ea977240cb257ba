"""A real in-process proctor with a SQLite audit file, and the policy the adapter tests share."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from proctor import Proctor
from proctor.clock import ManualClock
from proctor.sdk import make_agent, make_user
from tests.adapters.shop import tools as shop_tools

POLICY = """
name: tools
rules:
  - {id: lookups, action: "call:shop/lookup_order", effect: allow}
  - {id: refund-small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - id: refund-held
    action: "write:refund"
    effect: require_approval
    when: "args.amount > 100"
    reason: "Refunds over $100 need a supervisor's approval"
  - id: no-deletes
    action: "call:shop/delete_order"
    effect: deny
    reason: "Orders are never deleted by agents"
  - {id: clock, action: "call:time/get_current_time", effect: allow}
  - id: no-conversions
    action: "call:time/convert_time"
    effect: deny
    reason: "Time conversions are not for this agent"
  - {id: customers, action: "call:shop/lookup_customer", effect: allow}
  - {id: git-reads, action: "call:git/git_log", effect: allow}
  - {id: no-resets, action: "call:git/git_reset", effect: deny, reason: "History is not rewritten"}
scan:
  actions: ["call:shop/lookup_customer", "call:git/git_log"]
  output:
    pii.email: redact
    secret: deny
"""

CUSTOMER = "customer C-9: Bob Stone, bob.stone@example.com"
REDACTED_CUSTOMER = "customer C-9: Bob Stone, [pii.email]"
LEAKY_CUSTOMER = "customer C-9: Bob Stone, key AKIAIOSFODNN7EXAMPLE"

ALICE = make_user("alice", scopes=("*",))


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[Proctor]:
    with Proctor.from_policies(
        texts=(POLICY,),
        agents=[make_agent("support-bot", tier="verified")],
        audit=str(tmp_path / "audit.db"),
        clock=ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC)),
    ) as instance:
        yield instance


def decisions(guard: Proctor, action: str) -> list[dict[str, Any]]:
    """The audit records of checks on ``action``, oldest first."""
    guard.runtime.audit.flush()
    return [
        record
        for record in guard.runtime.audit.tail(100)
        if record["action"] == action and record.get("kind", "decision") == "decision"
    ]


def outputs(guard: Proctor, action: str) -> list[dict[str, Any]]:
    """The audit records of results reviewed for ``action``, oldest first."""
    guard.runtime.audit.flush()
    return [
        record
        for record in guard.runtime.audit.tail(100)
        if record["action"] == action and record.get("kind") == "output"
    ]


SHOP = Path(__file__).parent / "shop"


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """The shop's config and policy file, as `proctor mcp-proxy` and the adapters read them."""
    for name in ("proctor.yaml", "policy.yaml"):
        shutil.copy(SHOP / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def shop(shop_dir: Path) -> Iterator[Proctor]:
    """A real in-process proctor over the shop's config, as the proxy would load it."""
    shop_tools.ran.clear()
    shop_tools.notes.clear()
    with Proctor.from_config(
        shop_dir / "proctor.yaml",
        audit=str(shop_dir / "adapter-audit.db"),
        clock=ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC)),
    ) as instance:
        yield instance


def effects(guard: Proctor) -> dict[str, str]:
    """Each action's last decision: what a policy said of it."""
    guard.runtime.audit.flush()
    records = sorted(guard.runtime.audit.tail(1000), key=lambda record: int(record["seq"]))
    return {
        record["action"]: record["effect"]
        for record in records
        if record.get("kind", "decision") == "decision"
    }


def framework(module: str) -> None:
    """Skip the calling test module when ``module`` is not installed, except in the adapters'
    second environment (``make test-adapters-alt`` sets ``PROCTOR_ADAPTERS_ALT=1``), where the
    framework is what is under test and its absence fails the run."""
    if os.environ.get("PROCTOR_ADAPTERS_ALT") == "1":
        importlib.import_module(module)
    else:
        pytest.importorskip(module)


def assert_the_note_was_masked(shop: Proctor) -> None:
    """``shop_tools.NOTE`` run through an adapter: allowed, and the tool got the masked card."""
    assert effects(shop) == {"call:shop/add_note": "allow"}
    assert shop_tools.notes == [shop_tools.MASKED_NOTE]


def assert_the_shop_script_was_governed(shop: Proctor, seen: Mapping[str, str], given: str) -> None:
    """``shop_tools.SCRIPT`` run through an adapter: ``seen`` is what the model was given for
    each tool, by name, and ``given`` all it was given (the raw card must appear nowhere)."""
    assert effects(shop) == shop_tools.EXPECTED
    assert shop_tools.ran == shop_tools.EXPECTED_RAN
    assert f"paid with card {shop_tools.MASKED_CARD}" in seen["lookup_order"]
    assert shop_tools.CARD not in given
    assert "held the call to `refund`" in seen["refund"]
    assert "denied the call to `delete_order`" in seen["delete_order"]
    assert "the IBAN came from a tool's output" in seen["transfer"]
