"""``ApprovalDesk``: list, approve, reject and wait for approvals.

One desk serves every edge: ``Proctor.approvals`` in the SDK, ``proctor
approvals`` on the command line, the gateway's ``/v1/admin/approvals`` routes
and the dashboard. Every decision on an approval is written to the audit as
an ``approval`` record naming the approver, the reason and the credential that
decided (``extra.credential``). ``wait`` returns as soon as an approval is
decided in this process, and checks the store every ``poll`` seconds for
decisions made elsewhere (the CLI, another process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Required, TypedDict, Unpack

from proctor.limits.approvals import Approval, ApprovalStatus, may_approve
from proctor.limits.errors import APPROVAL_NOT_FOUND, APPROVER_NOT_ALLOWED, LimitsError
from proctor.model.request import User
from proctor.runtime.engine import Runtime

APPROVER_ROLE_CLAIMS = ("roles", "groups")
IN_PROCESS = {"kind": "in_process"}  # code holding the runtime: it names the approver itself


class Verdict(TypedDict, total=False):
    """Who decides an approval, why, and what authenticated them (``ApprovalDesk.decide``)."""

    by: Required[str | User]
    reason: str | None
    credential: Mapping[str, str] | None


class ApprovalDesk:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._changed = threading.Condition()
        self.on_decided: Callable[[Approval], None] | None = None  # e.g. the gateway's metrics

    def list(self, status: str | None = None, limit: int = 100) -> list[Approval]:
        return self.runtime.state.approvals.list(status, limit)

    def get(self, approval_id: str) -> Approval:
        if not isinstance(approval_id, str):  # no approval has one; the store never sees it
            shown = repr(approval_id)[:100]
            raise LimitsError(
                f"no approval `{shown}`: approval ids are text", code=APPROVAL_NOT_FOUND
            )
        found = self.runtime.state.approvals.get(approval_id)
        if found is None:
            raise LimitsError(f"no approval `{approval_id}`", code=APPROVAL_NOT_FOUND)
        return found

    def approve(self, approval_id: str, **verdict: Unpack[Verdict]) -> Approval:
        """Let the held-back call through once (``decide`` with ``approve=True``)."""
        return self.decide(approval_id, approve=True, **verdict)

    def reject(self, approval_id: str, **verdict: Unpack[Verdict]) -> Approval:
        return self.decide(approval_id, approve=False, **verdict)

    def wait(self, approval_id: str, *, timeout: float, poll: float = 0.5) -> Approval:
        """The approval once decided or expired, or as it is when ``timeout`` seconds pass."""
        clock = self.runtime.clock
        deadline = clock().timestamp() + timeout
        with self._changed:
            while True:
                found = self.get(approval_id)
                now = clock()
                if found.status is not ApprovalStatus.PENDING or found.expired(now):
                    return found
                remaining = deadline - now.timestamp()
                if remaining <= 0:
                    return found
                self._changed.wait(min(poll, remaining))

    def decide(
        self,
        approval_id: str,
        *,
        approve: bool,
        by: str | User,
        reason: str | None = None,
        credential: Mapping[str, str] | None = None,
    ) -> Approval:
        """Approve or reject; raises ``LimitsError`` if ``by`` may not.

        ``credential`` names what authenticated ``by`` (the gateway's admin key,
        the dashboard session, the CLI's operator); the record keeps it.
        """
        sub, roles = self._approver(by)
        found = self.get(approval_id)
        allowed, why = may_approve(found, sub, roles)
        if not allowed:
            raise LimitsError(why, code=APPROVER_NOT_ALLOWED)
        with self._changed:
            decided = self.runtime.state.approvals.decide(
                approval_id, approve=approve, by=sub, reason=reason, now=self.runtime.clock()
            )
            self._changed.notify_all()
        verb = "approved" if approve else "rejected"
        self.runtime.record(
            "approval",
            action=decided.action,
            effect=verb,
            reason=f"{verb} by `{sub}`" + (f": {reason}" if reason else ""),
            agent=decided.agent,
            user=decided.user,
            run_id=decided.run_id,
            args=dict(decided.args),
            extra={
                "approval_id": decided.approval_id,
                "approver": sub,
                "approver_roles": sorted(roles),
                "credential": dict(credential or IN_PROCESS),
                "call_hash": decided.call_hash,
                "requested_by_decision": decided.requested_by_decision,
                "expires_at": _iso_seconds(decided.expires_at),
                **({"resource": decided.resource} if decided.resource is not None else {}),
            },
        )
        if self.on_decided is not None:
            self.on_decided(decided)
        return decided

    def _approver(self, by: str | User) -> tuple[str, set[str]]:
        user = by if isinstance(by, User) else self.runtime.users.get(by, User(by))
        roles: set[str] = set()
        for claim in APPROVER_ROLE_CLAIMS:
            roles.update(_names(user.claims.get(claim)))
        return user.sub, roles


def _names(value: object) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(item) for item in value]
    return []


def _iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
