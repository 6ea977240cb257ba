"""Guardrails through the runtime: limits, runs and approvals bound to the exact call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor.clock import ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.decision import Effect
from proctor.model.request import Agent, RunState, User
from proctor.model.tiers import Tier
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store
from proctor.storage.state import open_state_stores

POLICY = """
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - id: large
    action: "write:refund"
    effect: require_approval
    when: "args.amount > 100"
    approvers: ["role:leads", "user:boss"]
    approval_ttl: 10m
  - {id: reads, action: "read:*", effect: allow}
limits:
  - {id: budget, action: "write:refund", sum: args.amount, max: 500, window: 1d, per: [user]}
  - {id: sliding-reads, action: "read:*", rate: 4/min, window_type: sliding}
runs:
  max_duration: 30m
  max_cost: 1.0
"""
ALICE = User("alice", ("*",))
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _runtime(clock: ManualClock, location: str | None = None, text: str = POLICY) -> Runtime:
    return Runtime(
        policies=load_policies(texts=[text]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.VERIFIED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(location),
        state=open_state_stores(location),
        clock=clock,
    )


@pytest.fixture
def runtime(clock: ManualClock) -> Iterator[Runtime]:
    opened = _runtime(clock)
    yield opened
    opened.close()


def test_a_call_with_no_limit_touches_no_store(clock: ManualClock) -> None:
    text = "name: p\nrules: [{action: 'read:*', effect: allow}]\n"
    runtime = _runtime(clock, text=text)

    class Untouchable:
        def __getattr__(self, name: str) -> None:
            raise AssertionError(f"the store was used: {name}")

    runtime.guardrails.counters = Untouchable()  # type: ignore[assignment]
    runtime.guardrails.runs = Untouchable()  # type: ignore[assignment]
    assert runtime.check("read:x", agent="bot", user=ALICE).allowed
    assert runtime.check("read:x", agent="bot", user=ALICE, run=RunState("r")).allowed
    runtime.close()


def test_a_sliding_window_lets_capacity_back_gradually(
    runtime: Runtime, clock: ManualClock
) -> None:
    for _ in range(4):
        assert runtime.check("read:x", agent="bot", user=ALICE).allowed
    clock.advance(seconds=60)  # a full window later: the previous minute still counts fully
    refused = runtime.check("read:x", agent="bot", user=ALICE)
    assert refused.code == "limit_exceeded"
    assert "capacity returns gradually" in refused.reason
    clock.advance(seconds=30)  # half of it still overlaps: 2 used, 2 free
    assert [runtime.check("read:x", agent="bot", user=ALICE).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]


def test_approving_call_a_never_lets_call_b_through(runtime: Runtime) -> None:
    asked = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    assert asked.effect is Effect.REQUIRE_APPROVAL
    approval_id = asked.obligations[0]["approval_id"]
    runtime.state.approvals.decide(approval_id, approve=True, by="boss", reason=None, now=START)
    other = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 151})
    assert other.effect is Effect.REQUIRE_APPROVAL
    assert other.obligations[0]["approval_id"] != approval_id
    someone_else = runtime.check("write:refund", agent="bot", user="bob", args={"amount": 150})
    assert not someone_else.allowed
    passed = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    assert passed.allowed
    assert passed.code == "approved"
    assert "boss" in passed.reason
    again = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    assert again.effect is Effect.REQUIRE_APPROVAL  # consumed once: a new request opens


def test_asking_again_returns_the_same_pending_approval(runtime: Runtime) -> None:
    first = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    second = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    assert first.obligations[0]["approval_id"] == second.obligations[0]["approval_id"]
    assert first.decision_id != second.decision_id


def test_expired_and_rejected_approvals_never_pass(runtime: Runtime, clock: ManualClock) -> None:
    asked = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    approval_id = asked.obligations[0]["approval_id"]
    runtime.state.approvals.decide(approval_id, approve=True, by="boss", reason=None, now=START)
    clock.advance(minutes=11)  # approval_ttl: 10m
    late = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    assert late.effect is Effect.REQUIRE_APPROVAL
    rejected_id = late.obligations[0]["approval_id"]
    assert rejected_id != approval_id
    runtime.state.approvals.decide(rejected_id, approve=False, by="boss", reason="no", now=clock())
    after = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 150})
    assert after.effect is Effect.REQUIRE_APPROVAL
    assert after.obligations[0]["approval_id"] not in (approval_id, rejected_id)


def test_an_approved_call_still_spends_the_budget(runtime: Runtime) -> None:
    for amount in (100, 100, 100):
        assert runtime.check(
            "write:refund", agent="bot", user=ALICE, args={"amount": amount}
        ).allowed
    asked = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 250})
    runtime.state.approvals.decide(
        asked.obligations[0]["approval_id"], approve=True, by="boss", reason=None, now=START
    )
    over = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 250})
    assert over.code == "limit_exceeded"
    assert "300 of 500 used; this call needs 250" in over.reason
    assert "stays for the call to retry" in over.reason
    assert "approved" not in {d.code for d in over.diagnostics}
    kept = runtime.state.approvals.get(asked.obligations[0]["approval_id"])
    assert kept is not None
    assert kept.status.value == "approved"


def test_a_run_past_its_duration_is_denied(runtime: Runtime, clock: ManualClock) -> None:
    run = RunState("task-1")
    assert runtime.check("read:x", agent="bot", user=ALICE, run=run).allowed
    clock.advance(minutes=29)
    assert runtime.check("read:y", agent="bot", user=ALICE, run=run).allowed
    clock.advance(minutes=2)
    late = runtime.check("read:z", agent="bot", user=ALICE, run=run)
    assert late.code == "run_ceiling"
    assert "1800s" in late.reason


def test_a_run_spends_the_cost_the_caller_reports(runtime: Runtime) -> None:
    run = RunState("task-2")
    cost = {"cost": 0.4}
    assert runtime.check("read:a", agent="bot", user=ALICE, run=run, context=cost).allowed
    assert runtime.check("read:b", agent="bot", user=ALICE, run=run, context=cost).allowed
    over = runtime.check("read:c", agent="bot", user=ALICE, run=run, context=cost)
    assert over.code == "run_ceiling"
    assert "cost ceiling of 1" in over.reason
    assert runtime.check("read:d", agent="bot", user=ALICE, run=run).allowed  # no cost reported


def test_an_ended_run_takes_no_more_calls(runtime: Runtime) -> None:
    run = RunState("task-3")
    assert runtime.check("read:a", agent="bot", user=ALICE, run=run).allowed
    runtime.state.runs.end("task-3", START)
    assert runtime.check("read:b", agent="bot", user=ALICE, run=run).code == "run_ended"


def test_usage_is_kept_in_the_decision_and_the_record(runtime: Runtime) -> None:
    decision = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 40})
    assert [d.message for d in decision.diagnostics] == [
        "limit `budget` for user `alice`: 40 of 500 used"
    ]
    record = runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["diagnostics"][0]["code"] == "limit_usage"


def test_a_closed_state_store_denies(tmp_path: Path, clock: ManualClock) -> None:
    runtime = _runtime(clock, str(tmp_path / "proctor.db"))
    runtime.state.counters.close()
    decision = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 40})
    assert decision.effect is Effect.DENY
    assert decision.code == "state_unavailable"
    runtime.close()


def test_eight_threads_through_the_runtime_spend_exactly_the_budget(
    tmp_path: Path, clock: ManualClock
) -> None:
    runtime = _runtime(clock, str(tmp_path / "proctor.db"))
    allowed: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def spend() -> None:
        barrier.wait()
        for _ in range(10):
            ok = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 10}).allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runtime.close()
    assert sum(allowed) == 50


def test_finished_buckets_are_swept_now_and_then(
    runtime: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proctor.limits import gate

    monkeypatch.setattr(gate, "PRUNE_EVERY", 2)
    assert runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 40}).allowed
    day = int(START.timestamp()) // 86_400 * 86_400
    key = "limit|budget|user=alice"
    assert runtime.state.counters.value(key, day) == 40
    clock.advance(days=2)
    assert runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 1}).allowed
    assert runtime.state.counters.value(key, day) == 0


def test_a_locked_database_fails_closed(tmp_path: Path, clock: ManualClock) -> None:
    import sqlite3

    db = str(tmp_path / "proctor.db")
    runtime = Runtime(
        policies=load_policies(texts=[POLICY]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.VERIFIED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(db),
        state=open_state_stores(db, busy_timeout=0.05),
        clock=clock,
    )
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        decision = runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 40})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert decision.effect is Effect.DENY
    assert decision.code == "state_unavailable"
    assert "locked" in decision.reason
    assert runtime.check("write:refund", agent="bot", user=ALICE, args={"amount": 40}).allowed
    runtime.close()
