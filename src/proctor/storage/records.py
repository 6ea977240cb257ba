"""Checks every audit store makes on an event before taking it (cheap: they run per call)."""

from __future__ import annotations

from proctor.audit.errors import AUDIT_INVALID_RECORD, AuditError
from proctor.model.audit_event import AuditEvent


def require_decision_id(event: AuditEvent) -> None:
    """Records are keyed by decision id: an event without one is a caller's bug."""
    if not event.decision_id or type(event.decision_id) is not str:
        raise AuditError(
            "an audit event needs a decision id (a non-empty string)", code=AUDIT_INVALID_RECORD
        )
