"""The state contract (counters, runs, approvals), run against memory and SQLite alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proctor.limits.approvals import Approval, ApprovalStatus, call_hash
from proctor.limits.counters import CounterCharge
from proctor.limits.errors import LimitsError
from proctor.storage.contracts import StateStores
from tests.storage.state_stores import BACKENDS, open_backend

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStores]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    stores = open_backend(request.param, tmp_path, url)
    yield stores
    stores.close()


def _charge(key: str, amount: float, ceiling: float, start: int = 0, weight: float = 0.0):
    return CounterCharge(key, start, 60, amount, ceiling, weight)


def test_charges_add_up_to_the_ceiling_and_no_further(state: StateStores) -> None:
    counters = state.counters
    results = [counters.charge([_charge("k", 10, 30)]) for _ in range(4)]
    assert [r.admitted for r in results] == [True, True, True, False]
    assert [r.used for r in results] == [(10,), (20,), (30,), (30,)]
    assert results[3].refused == 0
    assert counters.value("k", 0) == 30


def test_charges_are_all_or_nothing(state: StateStores) -> None:
    counters = state.counters
    counters.charge([_charge("b", 25, 30)])
    result = counters.charge([_charge("a", 10, 100), _charge("b", 10, 30)])
    assert not result.admitted
    assert result.refused == 1
    assert counters.value("a", 0) == 0  # the first charge was not applied either
    assert counters.value("b", 0) == 25


def test_buckets_are_separate(state: StateStores) -> None:
    counters = state.counters
    assert counters.charge([_charge("k", 30, 30, start=0)]).admitted
    assert counters.charge([_charge("k", 30, 30, start=60)]).admitted
    assert counters.value("k", 60) == 30


def test_a_sliding_window_weighs_the_previous_bucket(state: StateStores) -> None:
    counters = state.counters
    counters.charge([_charge("s", 20, 30, start=0)])
    # half of the previous bucket still counts: 10 used, 20 more fit, 21 do not
    assert not counters.charge([_charge("s", 21, 30, start=60, weight=0.5)]).admitted
    assert counters.charge([_charge("s", 20, 30, start=60, weight=0.5)]).admitted


def test_prune_drops_finished_buckets_but_not_run_counters(state: StateStores) -> None:
    counters = state.counters
    run = CounterCharge("run", 0, 0, 1, 10)
    counters.charge([_charge("old", 1, 10, start=60), _charge("new", 1, 10, start=120), run])
    assert counters.prune(now=179) == 0  # `old` is still the previous window of a sliding one
    assert counters.prune(now=180) == 1
    assert counters.value("old", 60) == 0
    assert counters.value("new", 120) == 1
    assert counters.value("run", 0) == 1


def test_runs_start_once_and_end_once(state: StateStores) -> None:
    runs = state.runs
    first = runs.start("r1", NOW, agent="bot", user="alice")
    again = runs.start("r1", NOW + timedelta(minutes=5), agent="bot", user="alice")
    assert again.started_at == first.started_at == NOW
    ended = runs.end("r1", NOW + timedelta(minutes=9))
    assert runs.end("r1", NOW + timedelta(minutes=20)).ended_at == ended.ended_at
    assert runs.get("r1") == ended
    assert runs.get("nope") is None
    with pytest.raises(LimitsError) as caught:
        runs.end("nope", NOW)
    assert caught.value.code == "run_not_found"


def _approval(approval_id: str, amount: int = 150, ttl: int = 3600) -> Approval:
    args = {"order_id": "A-1", "amount": amount}
    return Approval(
        approval_id=approval_id,
        call_hash=call_hash("write:refund", args, "alice", "bot"),
        action="write:refund",
        agent="bot",
        user="alice",
        rule_id="refund-approval",
        approvers=("role:leads",),
        created_at=NOW,
        expires_at=NOW + timedelta(seconds=ttl),
        requested_by_decision=f"d-{approval_id}",
        args=args,
    )


def test_the_same_call_reuses_its_pending_approval(state: StateStores) -> None:
    approvals = state.approvals
    first = approvals.open_request(_approval("a1"), NOW)
    assert approvals.open_request(_approval("a2"), NOW).approval_id == first.approval_id
    other = approvals.open_request(_approval("a3", amount=151), NOW)
    assert other.approval_id == "a3"
    assert [a.approval_id for a in approvals.list("pending")] == ["a3", "a1"]


def test_an_approval_passes_its_exact_call_once(state: StateStores) -> None:
    approvals = state.approvals
    asked = approvals.open_request(_approval("a1"), NOW)
    assert approvals.consume(asked.call_hash, NOW, "d-x") is None  # not yet approved
    approvals.decide("a1", approve=True, by="carol", reason="ok", now=NOW)
    other = _approval("b", amount=151).call_hash
    assert approvals.consume(other, NOW, "d-y") is None  # approving A never lets B through
    used = approvals.consume(asked.call_hash, NOW, "d-z")
    assert used is not None
    assert used.status is ApprovalStatus.CONSUMED
    assert used.consumed_by_decision == "d-z"
    assert used.decided_by == "carol"
    assert approvals.consume(asked.call_hash, NOW, "d-again") is None  # once only


def test_rejected_and_expired_approvals_never_pass(state: StateStores) -> None:
    approvals = state.approvals
    rejected = approvals.open_request(_approval("r"), NOW)
    approvals.decide("r", approve=False, by="carol", reason="no", now=NOW)
    assert approvals.consume(rejected.call_hash, NOW, "d") is None
    approvals.open_request(_approval("e", amount=300, ttl=60), NOW)
    approvals.decide("e", approve=True, by="carol", reason=None, now=NOW)
    late = NOW + timedelta(seconds=61)
    assert approvals.consume(_approval("e", amount=300).call_hash, late, "d") is None


def test_only_pending_unexpired_approvals_are_decided(state: StateStores) -> None:
    approvals = state.approvals
    approvals.open_request(_approval("a1", ttl=60), NOW)
    approvals.decide("a1", approve=True, by="carol", reason=None, now=NOW)
    with pytest.raises(LimitsError) as twice:
        approvals.decide("a1", approve=False, by="dave", reason=None, now=NOW)
    assert twice.value.code == "approval_not_pending"
    approvals.open_request(_approval("a2", amount=999, ttl=60), NOW)
    with pytest.raises(LimitsError) as expired:
        approvals.decide("a2", approve=True, by="c", reason=None, now=NOW + timedelta(hours=1))
    assert expired.value.code == "approval_expired"
    with pytest.raises(LimitsError) as missing:
        approvals.decide("zz", approve=True, by="c", reason=None, now=NOW)
    assert missing.value.code == "approval_not_found"
    stored = approvals.get("a1")
    assert stored is not None
    assert stored.to_dict(NOW)["status"] == "approved"
    assert stored.to_dict(NOW + timedelta(hours=2))["status"] == "expired"


def test_an_approval_is_used_once_under_concurrency(state: StateStores) -> None:
    import threading

    approvals = state.approvals
    asked = approvals.open_request(_approval("c1"), NOW)
    approvals.decide("c1", approve=True, by="carol", reason=None, now=NOW)
    used: list[bool] = []
    barrier = threading.Barrier(8)

    def take(index: int) -> None:
        barrier.wait()
        used.append(approvals.consume(asked.call_hash, NOW, f"d-{index}") is not None)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(used) == [False] * 7 + [True]


def test_an_approval_is_handed_back_only_by_the_decision_that_used_it(
    state: StateStores,
) -> None:
    approvals = state.approvals
    asked = approvals.open_request(_approval("a1"), NOW)
    approvals.decide("a1", approve=True, by="carol", reason=None, now=NOW)
    assert approvals.consume(asked.call_hash, NOW, "d-1") is not None
    approvals.release("a1", "d-other")  # another decision cannot give it back
    assert approvals.consume(asked.call_hash, NOW, "d-2") is None
    approvals.release("a1", "d-1")
    approvals.release("nope", "d-1")  # unknown: nothing to do
    back = approvals.get("a1")
    assert back is not None
    assert back.status is ApprovalStatus.APPROVED
    assert back.consumed_by_decision is None
    again = approvals.consume(asked.call_hash, NOW, "d-3")
    assert again is not None
    assert again.consumed_by_decision == "d-3"
    approvals.release("a1", "d-1")  # a stale hand-back after reuse changes nothing
    assert approvals.consume(asked.call_hash, NOW, "d-4") is None
