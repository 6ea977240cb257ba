"""Errors of approvals and runs asked for in a way that cannot be done.

Raised by ``proctor.limits`` and by every approval and run store alike, so
both name them here. A call over a limit is never an error: it is a
``Decision`` with effect deny.
"""

from __future__ import annotations

from proctor.errors import ProctorError

APPROVAL_NOT_FOUND = "approval_not_found"
APPROVAL_NOT_PENDING = "approval_not_pending"
APPROVAL_EXPIRED = "approval_expired"
APPROVER_NOT_ALLOWED = "approver_not_allowed"
RUN_NOT_FOUND = "run_not_found"


class LimitsError(ProctorError):
    """An approval or run operation that cannot be done; ``code`` says why."""

    code = "limits_error"
