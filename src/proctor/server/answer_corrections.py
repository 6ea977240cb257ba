"""Denials whose record may still commit: looked up once the store takes records again.

A request is told deny when its record's commit failed. When the database
stopped answering after the COMMIT was sent (a frozen server, a cut link), the
outcome is unknown: the transaction may still commit once the server resumes,
and the audit would then say allow where the client was told deny. Waiting for
the outcome is no answer (the freeze may last minutes), so each such denial is
remembered here, and once the store is healthy again every remembered decision
whose record did commit with another effect gets a ``correction`` record: the
same agent, user and action, effect ``deny``, ``extra.corrects`` naming the
decision. A reader of the audit takes a decision's answer from its correction
when there is one. Kept in memory: a process that dies before the database
answers again loses what it remembered.
"""

from __future__ import annotations

import threading
from typing import Any

from proctor.clock import Clock, system_clock
from proctor.errors import ProctorError
from proctor.model.audit_event import AuditEvent, audit_timestamp
from proctor.model.decision import AUDIT_UNAVAILABLE
from proctor.storage.contracts import AuditStore

CORRECTION_KIND = "correction"
CORRECTION_CODE = AUDIT_UNAVAILABLE  # the code the client was answered with
_MAX_REMEMBERED = 100_000  # a bound on memory: decisions in flight when the store failed


def correction_id(decision_id: str) -> str:
    """The correction's own decision id: one per decision, so a repeat is refused as stored."""
    return f"{decision_id}.answered-deny"


class AnswerCorrections:
    def __init__(self, store: AuditStore, *, clock: Clock = system_clock) -> None:
        self._store = store
        self._clock = clock  # a correction is stamped when it is written
        self._lock = threading.Lock()
        self._remembered: dict[str, str] = {}  # decision id -> why it was denied

    @property
    def pending(self) -> int:
        return len(self._remembered)

    def remember(self, decision_id: str, problem: str) -> None:
        """``decision_id`` was answered deny though its record was queued."""
        with self._lock:
            if len(self._remembered) < _MAX_REMEMBERED:
                self._remembered[decision_id] = problem

    def settle(self) -> int:
        """Correct what committed, forget what did not; returns the corrections appended.

        Does nothing while the store is failed. A decision whose lookup fails is
        kept for the next call.
        """
        if not self._remembered or not getattr(self._store, "healthy", True):
            return 0
        with self._lock:
            remembered = dict(self._remembered)
        corrected: list[str] = []
        for decision_id, problem in remembered.items():
            try:
                record = self._store.get(decision_id)
                if record is not None and record.get("effect") != "deny":
                    self._store.append(_correction(record, decision_id, problem, self._clock))
                    corrected.append(decision_id)
                    continue
            except ProctorError:
                continue  # down again: try once it answers
            self._forget([decision_id])  # not committed, or committed as deny: agrees
        if corrected:
            try:
                self._store.flush(timeout=30.0)
            except ProctorError:
                return 0  # not chained: tried again (a repeat is refused as stored)
            self._forget(corrected)
        return len(corrected)

    def _forget(self, decision_ids: list[str]) -> None:
        with self._lock:
            for decision_id in decision_ids:
                self._remembered.pop(decision_id, None)


def _correction(record: dict[str, Any], decision_id: str, problem: str, clock: Clock) -> AuditEvent:
    return AuditEvent(
        kind=CORRECTION_KIND,
        decision_id=correction_id(decision_id),
        ts=audit_timestamp(clock()),
        trace_id=record.get("trace_id"),
        user=record.get("user"),
        agent=record.get("agent") or {},
        run_id=record.get("run_id"),
        action=str(record.get("action", "")),
        resource=record.get("resource"),
        effect="deny",
        reason=(
            f"decision `{decision_id}` was answered deny ({problem}); its record committed "
            "after the answer, when the database answered again"
        ),
        code=CORRECTION_CODE,
        extra={"corrects": decision_id, "recorded_effect": record.get("effect")},
    )
