"""The commit barrier: an answer waits for its record; a store that cannot commit means deny."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from proctor.config import load_config
from proctor.errors import ProctorError
from proctor.runtime import build_runtime
from proctor.server import create_app
from proctor.server.commits import CommitBarrier
from proctor.storage import SqliteAuditStore
from proctor.storage.memory import MemoryAuditStore
from tests.audit.factories import make_event
from tests.runtime.test_charge_returns import BUDGET
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY
from tests.storage.recovery import wait_healthy

CHECK = {"action": "read:orders", "agent": "support-bot"}


def test_an_answered_check_is_already_committed(config_path: Path) -> None:
    loaded = load_config(config_path)
    runtime = build_runtime(loaded, wait_for_audit=False)
    with TestClient(create_app(runtime, config=loaded)) as client:
        answer = client.post("/v1/check", json=CHECK, headers=bearer(PEP_KEY)).json()
        other = SqliteAuditStore(str(config_path.parent / "proctor.db"))  # another reader
        try:
            assert other.get(answer["decision_id"]) is not None
        finally:
            other.close()


def test_a_store_that_cannot_write_turns_answers_into_denies(config_path: Path) -> None:
    loaded = load_config(config_path)
    runtime = build_runtime(loaded, wait_for_audit=False)
    with TestClient(create_app(runtime, config=loaded, close_runtime=False)) as client:
        runtime.audit.close()  # nothing can be recorded any more
        answer = client.post("/v1/check", json=CHECK, headers=bearer(PEP_KEY)).json()
        assert answer["effect"] == "deny"
        assert answer["code"] == "audit_unavailable"
        assert client.get("/readyz").status_code == 503
    runtime.close()


def test_a_later_batch_failing_leaves_a_committed_answer_standing(tmp_path: Path) -> None:
    """A request whose record committed is answered so, though the flush it waits on failed."""
    path = tmp_path / "audit.db"
    with SqliteAuditStore(str(path), busy_timeout=0.05, flush_interval=60) as store:
        barrier = CommitBarrier(store)
        try:
            store.append(make_event(1), wait=True)  # committed
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the next batch cannot be written
            try:
                store.append(make_event(2))  # queued: the flush below fails on it
                asyncio.run(barrier.wait("dec-000001"))  # answered: its record is in the chain
                with pytest.raises(ProctorError):
                    asyncio.run(barrier.wait("dec-000002"))  # spilled, not in the chain
                with pytest.raises(ProctorError):
                    asyncio.run(barrier.wait())
            finally:
                holder.execute("ROLLBACK")
                holder.close()
        finally:
            barrier.close()


def test_a_record_spilled_before_a_flush_that_succeeds_is_not_answered_allow(
    tmp_path: Path,
) -> None:
    """Its batch failed and the store recovered, replaying it as a deny, before the flush its
    request waits on was written: that flush succeeds, the record's answer is still deny."""
    path = tmp_path / "audit.db"
    with SqliteAuditStore(str(path), busy_timeout=0.05, flush_interval=60) as store:
        barrier = CommitBarrier(store)  # the store spills as the deny its client is told
        try:
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the next batch cannot be written
            store.append(make_event(1))  # queued, then failed: spilled as a deny
            with pytest.raises(ProctorError):
                store.flush()
            holder.execute("ROLLBACK")
            holder.close()
            wait_healthy(store)  # the writer's own probe and replay
            replayed = store.get("dec-000001")
            assert replayed is not None
            assert replayed["code"] == "audit_unavailable"
            with pytest.raises(ProctorError):  # its flush succeeds now, its record is a deny
                asyncio.run(barrier.wait("dec-000001"))
            store.append(make_event(2))
            asyncio.run(barrier.wait("dec-000002"))  # written: answered as it was decided
        finally:
            barrier.close()


def test_a_charge_whose_decision_is_not_recorded_is_undone(config_path: Path) -> None:
    (config_path.parent / "policy.yaml").write_text(BUDGET)
    refund = {"action": "write:refund", "agent": "support-bot", "args": {"amount": 600}}
    loaded = load_config(config_path)
    runtime = build_runtime(loaded, wait_for_audit=False)
    with TestClient(create_app(runtime, config=loaded, close_runtime=False)) as client:
        runtime.audit.close()  # the limits store still answers; the audit cannot record
        answer = client.post("/v1/check", json=refund, headers=bearer(PEP_KEY)).json()
        assert answer["code"] == "audit_unavailable"
    runtime.close()
    runtime = build_runtime(loaded, wait_for_audit=False)  # the same counters, a working audit
    with TestClient(create_app(runtime, config=loaded)) as client:
        paid = client.post("/v1/check", json=refund, headers=bearer(PEP_KEY)).json()
        over = client.post("/v1/check", json=refund, headers=bearer(PEP_KEY)).json()
    assert paid["effect"] == "allow"  # the unrecorded 600 was not spent
    assert over["code"] == "limit_exceeded"  # this 600 was


def test_waits_from_two_loops_are_each_answered_on_their_own_loop() -> None:
    store = MemoryAuditStore()
    barrier = CommitBarrier(store)
    try:
        store.append(make_event(1))
        asyncio.run(barrier.wait("dec-000001"))
        store.append(make_event(2))
        asyncio.run(barrier.wait("dec-000002"))  # a new loop: answered there
    finally:
        barrier.close()
