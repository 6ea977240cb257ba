"""What every audit store does with an event: checks it before taking it (cheap: they run
per call) and queues it for its writer thread."""

from __future__ import annotations

import threading

from proctor.audit.errors import AUDIT_INVALID_RECORD, AuditError
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent


def require_decision_id(event: AuditEvent) -> None:
    """Records are keyed by decision id: an event without one is a caller's bug."""
    if not event.decision_id or type(event.decision_id) is not str:
        raise AuditError(
            "an audit event needs a decision id (a non-empty string)", code=AUDIT_INVALID_RECORD
        )


class PendingAppend:
    """A queued append whose caller waits for the commit, or a flush marker (``event`` None).

    ``waits`` is False for an append queued this way whose caller did not wait (PostgreSQL
    queues every append so): it was answered before its commit.
    """

    __slots__ = ("done", "error", "event", "waits")

    def __init__(self, event: AuditEvent | None, *, waits: bool = True) -> None:
        self.event = event
        self.waits = waits
        self.done = threading.Event()
        self.error: ProctorError | None = None
