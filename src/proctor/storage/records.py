"""What every audit store does with an event: checks it before taking it (cheap: they run
per call) and queues it for its writer thread."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable

from proctor.audit.errors import AUDIT_INVALID_RECORD, AuditError
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent


def require_decision_id(event: AuditEvent) -> None:
    """Records are keyed by decision id: an event without one is a caller's bug."""
    if not event.decision_id or type(event.decision_id) is not str:
        raise AuditError(
            "an audit event needs a decision id (a non-empty string)", code=AUDIT_INVALID_RECORD
        )


Committed = Callable[[ProctorError | None], None]


class PendingAppend:
    """A queued append whose caller waits for the commit, or a flush marker (``event`` None).

    ``then``, when given, is called on the writer thread once the item is done,
    with its error (None: committed): a flush an event loop awaits without a
    thread blocked on it (``flush_then``).
    """

    __slots__ = ("done", "error", "event", "then")

    def __init__(self, event: AuditEvent | None, then: Committed | None = None) -> None:
        self.event = event
        self.done = threading.Event()
        self.error: ProctorError | None = None
        self.then = then

    def finish(self, error: ProctorError | None) -> None:
        """Done, with ``error`` (None: committed); waiters and ``then`` are told."""
        self.error = error
        self.done.set()
        if self.then is not None:
            try:
                self.then(error)
            except Exception as exc:  # a waiter's bug must not stop the writer
                _note(f"proctor: a commit callback failed: {exc!r}\n")


def _note(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
