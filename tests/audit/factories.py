"""Audit events for tests: realistic records, with any field overridden."""

from __future__ import annotations

from typing import Any

from proctor.audit.canonical import digest
from proctor.model.audit_event import AuditEvent


def make_event(number: int = 1, **overrides: Any) -> AuditEvent:
    """A decision record numbered ``number`` (its decision id and order id say which)."""
    args = overrides.pop("args", {"amount": 42.5, "currency": "EUR", "order_id": f"ord-{number}"})
    fields: dict[str, Any] = {
        "kind": "decision",
        "decision_id": f"dec-{number:06d}",
        "ts": f"2026-05-09T07:35:{number % 60:02d}.123456Z",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "user": {"sub": "alice@example.com", "claims": {"tenant": "acme", "groups": ["support"]}},
        "agent": {"id": "support-bot", "role": "support", "tier": "verified", "tags": ["prod"]},
        "run_id": "run-7",
        "action": "write:refund",
        "resource": "order/123",
        "args": args,
        "args_digest": digest(args),
        "effect": "allow",
        "rule_ids": ("small-refunds",),
        "reason": "allowed by rule small-refunds",
        "effective_scopes": ("read:*", "write:refund"),
        "latency_us": 37.125,
    }
    fields.update(overrides)
    return AuditEvent(**fields)
