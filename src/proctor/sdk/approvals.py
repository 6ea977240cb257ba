"""``ApprovalDesk`` for SDK users: the runtime's desk (``proctor.runtime.approvals``)."""

from proctor.runtime.approvals import APPROVER_ROLE_CLAIMS, IN_PROCESS, ApprovalDesk

__all__ = ["APPROVER_ROLE_CLAIMS", "IN_PROCESS", "ApprovalDesk"]
