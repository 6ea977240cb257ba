"""Approvals bound to the exact call: action, canonical arguments, user and agent.

``call_hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces) of
those four, so an approval of one call never lets a call with any other
argument through. An approval passes once: ``pending`` -> ``approved`` ->
``consumed``; ``rejected`` and expired approvals never pass.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson


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


def call_hash(action: str, args: Mapping[str, Any], user: str | None, agent: str) -> str:
    """The identity of one exact call; ``args`` are the normalized (JSON-safe) arguments."""
    body = orjson.dumps(
        {"action": action, "args": args, "user": user, "agent": agent},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def may_approve(approval: Approval, approver: str, roles: Iterable[str] = ()) -> tuple[bool, str]:
    """Whether ``approver`` (holding ``roles``) may decide ``approval``, and why not.

    The user whose call is held back never approves it. With no ``approvers``
    on the rule anyone else may; else one entry must match: ``user:PATTERN``
    (shell-style, e.g. ``user:*@shop.example``) or ``role:NAME``.
    """
    if approval.user is not None and approver == approval.user:
        return False, f"`{approver}` asked for this call and cannot approve it"
    if not approval.approvers:
        return True, ""
    held = set(roles)
    for entry in approval.approvers:
        kind, _, pattern = entry.partition(":")
        if kind == "user" and fnmatch.fnmatchcase(approver, pattern):
            return True, ""
        if kind == "role" and pattern in held:
            return True, ""
    allowed = ", ".join(f"`{entry}`" for entry in approval.approvers)
    return False, f"`{approver}` is not among the approvers of this call ({allowed})"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
