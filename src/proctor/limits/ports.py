"""What the limits need from storage: counters, runs and approvals.

``proctor.storage`` fills these in (memory, SQLite; PostgreSQL later) and runs
one contract test suite against every backend. Each operation that decides
is atomic in the backend, across threads and processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from proctor.limits.approvals import Approval
from proctor.limits.counters import ChargeResult, CounterCharge
from proctor.limits.runs import RunRecord


@runtime_checkable
class CounterStore(Protocol):
    def charge(self, charges: Sequence[CounterCharge]) -> ChargeResult:
        """Apply every charge or none: all fit under their ceilings, or nothing changes."""
        ...

    def value(self, key: str, window_start: int) -> float:
        """The counter's value in one bucket (0 when it was never charged)."""
        ...

    def prune(self, now: int) -> int:
        """Drop buckets that can no longer count at ``now`` (epoch seconds): those that
        ended a whole window ago (a sliding window still reads the previous one).
        Counters that never reset are kept. Returns how many went."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RunStore(Protocol):
    def start(self, run_id: str, at: datetime, *, agent: str, user: str | None) -> RunRecord:
        """The run, started at ``at`` unless it was started before (then as it is)."""
        ...

    def end(self, run_id: str, at: datetime) -> RunRecord:
        """Mark the run ended (once; ending again keeps the first end)."""
        ...

    def get(self, run_id: str) -> RunRecord | None: ...

    def close(self) -> None: ...


@runtime_checkable
class ApprovalStore(Protocol):
    def open_request(self, approval: Approval, now: datetime) -> Approval:
        """The pending, unexpired approval for the same call, or ``approval`` stored as new."""
        ...

    def consume(self, call_hash: str, now: datetime, decision_id: str) -> Approval | None:
        """Use up one approved, unexpired approval of this exact call; None when there is none."""
        ...

    def release(self, approval_id: str, decision_id: str) -> None:
        """Hand back an approval ``decision_id`` used up but did not pass (a limit denied it).

        Only when it is still consumed by that decision: it is approved again.
        """
        ...

    def decide(
        self, approval_id: str, *, approve: bool, by: str, reason: str | None, now: datetime
    ) -> Approval:
        """Approve or reject a pending approval; raises ``LimitsError`` when it is not pending."""
        ...

    def get(self, approval_id: str) -> Approval | None: ...

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        """Newest first; ``status`` one of pending, approved, rejected, consumed."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StateStores:
    """The three stores the guardrails use, opened and closed together."""

    counters: CounterStore
    runs: RunStore
    approvals: ApprovalStore

    def close(self) -> None:
        self.counters.close()
        self.runs.close()
        self.approvals.close()
