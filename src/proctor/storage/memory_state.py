"""Counters, runs and approvals in memory: one lock each, so every operation is atomic."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from proctor.model.approvals import Approval, ApprovalStatus
from proctor.model.counters import ChargeResult, CounterCharge, tally
from proctor.model.limits_errors import (
    APPROVAL_EXPIRED,
    APPROVAL_NOT_FOUND,
    APPROVAL_NOT_PENDING,
    RUN_NOT_FOUND,
    LimitsError,
)
from proctor.model.runs import RunRecord


class InMemory:
    """A store in this process: one lock makes each operation atomic.

    Closing frees nothing, unless a store says otherwise (the audit store refuses use after).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def close(self) -> None:
        return None


class MemoryCounterStore(InMemory):
    def __init__(self) -> None:
        super().__init__()
        self._totals: dict[tuple[str, int], float] = {}
        self._windows: dict[tuple[str, int], int] = {}

    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        with self._lock:
            result = tally(charges, lambda key, start: self._totals.get((key, start), 0.0))
            if result.admitted:
                for item in charges:
                    slot = (item.key, item.window_start)
                    self._totals[slot] = self._totals.get(slot, 0.0) + item.amount
                    self._windows[slot] = item.window_seconds
            return result

    def value(self, key: str, window_start: int) -> float:
        with self._lock:
            return self._totals.get((key, window_start), 0.0)

    def prune(self, now: int) -> int:
        with self._lock:
            old = [
                slot
                for slot, seconds in self._windows.items()
                if seconds > 0 and slot[1] + 2 * seconds <= now
            ]
            for slot in old:
                del self._totals[slot]
                del self._windows[slot]
            return len(old)


class MemoryRunStore(InMemory):
    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[str, RunRecord] = {}

    def start(self, run_id: str, at: datetime, *, agent: str, user: str | None) -> RunRecord:
        with self._lock:
            return self._runs.setdefault(run_id, RunRecord(run_id, at, agent, user))

    def end(self, run_id: str, at: datetime) -> RunRecord:
        with self._lock:
            found = self._runs.get(run_id)
            if found is None:
                raise LimitsError(f"no run `{run_id}`", code=RUN_NOT_FOUND)
            if found.ended_at is None:
                found = self._runs[run_id] = replace(found, ended_at=at)
            return found

    def get(self, run_id: str) -> RunRecord | None:
        with self._lock:
            return self._runs.get(run_id)


class MemoryApprovalStore(InMemory):
    def __init__(self) -> None:
        super().__init__()
        self._items: dict[str, Approval] = {}

    def open_request(self, approval: Approval, now: datetime) -> Approval:
        with self._lock:
            pending = self._live(approval.call_hash, ApprovalStatus.PENDING, now)
            if pending is not None:
                return pending
            self._items[approval.approval_id] = approval
            return approval

    def consume(self, call_hash: str, now: datetime, decision_id: str) -> Approval | None:
        with self._lock:
            approved = self._live(call_hash, ApprovalStatus.APPROVED, now)
            if approved is None:
                return None
            used = replace(
                approved, status=ApprovalStatus.CONSUMED, consumed_by_decision=decision_id
            )
            self._items[approved.approval_id] = used
            return used

    def _live(self, call_hash: str, status: ApprovalStatus, now: datetime) -> Approval | None:
        """The first unexpired approval of ``call_hash`` in ``status`` (the lock held)."""
        for item in self._items.values():
            if item.call_hash == call_hash and item.status is status and not item.expired(now):
                return item
        return None

    def release(self, approval_id: str, decision_id: str) -> None:
        with self._lock:
            found = self._items.get(approval_id)
            if found is not None and released(found, decision_id):
                self._items[approval_id] = replace(
                    found, status=ApprovalStatus.APPROVED, consumed_by_decision=None
                )

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        with self._lock:
            found = self._items.get(approval_id)
            check_decidable(found, approval_id, now)
            assert found is not None
            status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
            decided = self._items[approval_id] = found.decided(status, by, reason, now)
            return decided

    def get(self, approval_id: str) -> Approval | None:
        with self._lock:
            return self._items.get(approval_id)

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        with self._lock:
            items = [i for i in self._items.values() if status is None or i.status.value == status]
        items.sort(key=lambda item: (item.created_at, item.approval_id), reverse=True)
        return items[:limit]


def released(found: Approval, decision_id: str) -> bool:
    """Whether ``found`` is the approval ``decision_id`` used up (and may be handed back)."""
    return found.status is ApprovalStatus.CONSUMED and found.consumed_by_decision == decision_id


def check_decidable(found: Approval | None, approval_id: str, now: datetime) -> None:
    """Raise unless ``found`` is a pending, unexpired approval (shared by every backend)."""
    if found is None:
        raise LimitsError(f"no approval `{approval_id}`", code=APPROVAL_NOT_FOUND)
    if found.status is not ApprovalStatus.PENDING:
        raise LimitsError(
            f"approval `{approval_id}` is {found.status.value}, not pending",
            code=APPROVAL_NOT_PENDING,
        )
    if found.expired(now):
        raise LimitsError(f"approval `{approval_id}` has expired", code=APPROVAL_EXPIRED)
