"""An approval of one exact call, as every approval store keeps it.

Pure data shared by ``proctor.limits`` (which asks for and consumes approvals)
and the storage backends (which keep them); ``call_hash`` in
``proctor.limits.approvals`` names the call. An approval passes once:
``pending`` -> ``approved`` -> ``consumed``; ``rejected`` and expired approvals
never pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONSUMED = "consumed"


@dataclass(frozen=True, slots=True)
class Approval:
    approval_id: str
    call_hash: str
    action: str
    agent: str
    user: str | None
    rule_id: str
    approvers: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    requested_by_decision: str
    status: ApprovalStatus = ApprovalStatus.PENDING
    args: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    consumed_by_decision: str | None = None
    resource: str | None = None  # what the call acts on, part of its ``call_hash``

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def state(self, now: datetime) -> str:
        """The status, or ``expired`` for a pending or approved one past its expiry."""
        open_states = (ApprovalStatus.PENDING, ApprovalStatus.APPROVED)
        if self.status in open_states and self.expired(now):
            return "expired"
        return self.status.value

    def decided(
        self, status: ApprovalStatus, by: str, reason: str | None, at: datetime
    ) -> Approval:
        return replace(self, status=status, decided_by=by, reason=reason, decided_at=at)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "approval_id": self.approval_id,
            "status": self.state(now) if now is not None else self.status.value,
            "action": self.action,
            "args": dict(self.args),
            "resource": self.resource,
            "agent": self.agent,
            "user": self.user,
            "rule_id": self.rule_id,
            "approvers": list(self.approvers),
            "call_hash": self.call_hash,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "requested_by_decision": self.requested_by_decision,
            "run_id": self.run_id,
            "decided_by": self.decided_by,
            "decided_at": _iso(self.decided_at) if self.decided_at else None,
            "reason": self.reason,
            "consumed_by_decision": self.consumed_by_decision,
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
