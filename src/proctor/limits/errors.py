"""Errors of the limits package: approvals and runs asked for in a way that cannot be done.

A call over a limit is never an error: it is a ``Decision`` with effect deny.
The stores raise them too, so they live in ``proctor.model.limits_errors``.
"""

from __future__ import annotations

from proctor.model.limits_errors import (
    APPROVAL_EXPIRED,
    APPROVAL_NOT_FOUND,
    APPROVAL_NOT_PENDING,
    APPROVER_NOT_ALLOWED,
    RUN_NOT_FOUND,
    LimitsError,
)

__all__ = [
    "APPROVAL_EXPIRED",
    "APPROVAL_NOT_FOUND",
    "APPROVAL_NOT_PENDING",
    "APPROVER_NOT_ALLOWED",
    "RUN_NOT_FOUND",
    "LimitsError",
]
