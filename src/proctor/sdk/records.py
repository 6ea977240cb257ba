"""Audit records the SDK writes besides decisions: runs started and ended, approvals decided."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from proctor.audit.canonical import digest
from proctor.model.audit_event import AuditEvent
from proctor.runtime import Runtime


def record_event(
    runtime: Runtime,
    *,
    kind: str,
    action: str,
    effect: str,
    reason: str,
    agent: str | None,
    user: str | None,
    run_id: str | None = None,
    args: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    wait: bool = False,
) -> str:
    """Append one record of ``kind`` and return its id (the record's decision id).

    ``wait``: return only once the record is stored (a store failure raises).
    """
    now = runtime.clock()
    event_id = runtime.guardrails.new_id(now)
    found = runtime.registry.get(agent) if agent is not None else None
    runtime.audit.append(
        AuditEvent(
            kind=kind,
            decision_id=event_id,
            ts=now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            agent={
                "id": agent,
                "role": found.role if found is not None else None,
                "tier": found.tier.value if found is not None else None,
                "tags": sorted(found.tags) if found is not None else [],
            },
            user={"sub": user, "claims": {}} if user is not None else None,
            run_id=run_id,
            action=action,
            args=args or {},
            args_digest=digest(args or {}),
            effect=effect,
            reason=reason,
            code=kind,
            extra=extra or {},
        ),
        wait=wait,
    )
    return event_id


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
