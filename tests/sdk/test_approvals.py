"""Approvals through the SDK: ``ApprovalRequired`` carries the id; approve, reject and wait."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor.clock import ManualClock
from proctor.limits.approvals import ApprovalStatus
from proctor.limits.errors import LimitsError
from proctor.sdk import ApprovalRequired, Proctor, governed_tool, make_agent, make_user

POLICY = """
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - id: large
    action: "write:refund"
    effect: require_approval
    when: "args.amount > 100"
    approvers: ["role:leads"]
"""


ALICE = make_user("alice", scopes=("*",))


@governed_tool("write:refund")
def refund(order_id: str, amount: float) -> str:
    return f"refunded {amount} on {order_id}"


def _guard() -> Proctor:
    guard = Proctor.from_policies(
        texts=(POLICY,),
        agents=[make_agent("bot")],
        clock=ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC)),
    )
    return guard


def _held(guard: Proctor) -> str:
    with guard.session(user=ALICE), pytest.raises(ApprovalRequired) as caught:
        refund("A-1", 150)
    assert caught.value.approval_id is not None
    return caught.value.approval_id


def test_approved_from_the_sdk_the_call_goes_through_once() -> None:
    from proctor.model.request import User

    with _guard() as guard:
        approval_id = _held(guard)
        with pytest.raises(LimitsError) as refused:
            guard.approvals.approve(approval_id, by="mallory")
        assert refused.value.code == "approver_not_allowed"
        with pytest.raises(LimitsError) as own:
            guard.approvals.approve(approval_id, by=User("alice", (), {"roles": ["leads"]}))
        assert own.value.code == "approver_not_allowed"  # never one's own call
        carol = User("carol", (), {"groups": ["leads"]})
        decided = guard.approvals.approve(approval_id, by=carol, reason="known customer")
        assert decided.status is ApprovalStatus.APPROVED
        with guard.session(user=ALICE):
            assert refund("A-1", 150) == "refunded 150 on A-1"
            with pytest.raises(ApprovalRequired):
                refund("A-1", 150)  # used up
        records = guard.runtime.audit.tail(10)
        approval = next(r for r in records if r["kind"] == "approval")
        assert approval["effect"] == "approved"
        assert approval["extra"]["approver"] == "carol"
        assert approval["reason"] == "approved by `carol`: known customer"


def test_wait_returns_when_another_thread_decides() -> None:
    from proctor.model.request import User

    with _guard() as guard:
        approval_id = _held(guard)
        started = threading.Event()

        def decide() -> None:
            started.wait()
            guard.approvals.reject(approval_id, by=User("carol", (), {"roles": ["leads"]}))

        thread = threading.Thread(target=decide)
        thread.start()
        started.set()
        found = guard.approvals.wait(approval_id, timeout=30)
        thread.join()
        assert found.status is ApprovalStatus.REJECTED


def test_wait_gives_up_after_its_timeout() -> None:
    with _guard() as guard:
        approval_id = _held(guard)
        assert guard.approvals.wait(approval_id, timeout=0).status is ApprovalStatus.PENDING


def test_an_unknown_approval_is_an_error() -> None:
    with _guard() as guard, pytest.raises(LimitsError) as caught:
        guard.approvals.get("nope")
    assert caught.value.code == "approval_not_found"


@pytest.mark.parametrize("audit", ["memory", "sqlite"])
@pytest.mark.parametrize("approval_id", [["a"], {"a": 1}, ("a",)])
def test_an_approval_id_that_is_not_text_is_not_found(
    audit: str, approval_id: object, tmp_path: Path
) -> None:
    """A list as an id was a `TypeError` in memory and `storage_unavailable` (as if the
    database were down) over SQLite; it is an id no approval has."""
    location = ":memory:" if audit == "memory" else str(tmp_path / "proctor.db")
    guard = Proctor.from_policies(texts=(POLICY,), agents=[make_agent("bot")], audit=location)
    with guard:
        held = _held(guard)
        desk = guard.approvals
        attempts = [
            lambda: desk.get(approval_id),  # type: ignore[arg-type]
            lambda: desk.approve(approval_id, by="carol"),  # type: ignore[arg-type]
            lambda: desk.reject(approval_id, by="carol"),  # type: ignore[arg-type]
            lambda: desk.wait(approval_id, timeout=0),  # type: ignore[arg-type]
        ]
        for attempt in attempts:
            with pytest.raises(LimitsError) as caught:
                attempt()
            assert caught.value.code == "approval_not_found"
        assert guard.approvals.get(held).status is ApprovalStatus.PENDING
