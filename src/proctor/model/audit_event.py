"""One audit record before it joins the hash chain: what was asked, by whom, and the answer.

The record schema is versioned (``AUDIT_VERSION``, written as ``"v"``); a change
to the fields or their meaning bumps the version, so the audit encoding never
changes silently. The chain fields (``seq``, ``prev_hash``, ``hash``) are added
by ``proctor.audit.chain`` when the record is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from proctor.model.frozen import built_at_once

AUDIT_VERSION = 1

# Kinds of record: "decision" per check; "run" (effect start/end) and "approval"
# (effect approved/rejected) from proctor.sdk; "correction" (effect deny,
# ``extra.corrects``) when a decision answered deny committed after the answer.
AUDIT_KINDS = frozenset(
    {"decision", "approval", "run", "token_exchange", "tier_change", "policy_change", "correction"}
)


def audit_timestamp(when: datetime) -> str:
    """``when`` as ISO 8601 UTC with microseconds and a ``Z``: ``2026-05-09T07:35:25.000001Z``."""
    if when.tzinfo is None:
        raise ValueError("an audit timestamp needs an aware datetime")
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@built_at_once  # built on every check: one assignment, not a setattr per field
@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One record of the audit trail, as the runtime hands it to an audit store.

    Built on every tool call, so construction does no validation or copying:
    the caller passes JSON-ready values (``args`` already normalized,
    ``args_digest`` from ``proctor.audit.canonical.digest``). ``user`` is
    ``{"sub", "claims"}``, ``agent`` is ``{"id", "role", "tier", "tags"}``,
    ``delegation`` is the ``act`` chain of a delegation token (outermost, the
    acting agent, first; ``{"sub", "depth"}`` each; empty without a token) and
    ``extra`` holds what a kind other than ``decision`` needs.
    """

    kind: str
    decision_id: str
    ts: str
    agent: dict[str, Any]
    action: str
    effect: str
    reason: str
    trace_id: str | None = None
    user: dict[str, Any] | None = None
    delegation: tuple[dict[str, Any], ...] = ()
    run_id: str | None = None
    resource: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    args_digest: str = ""
    rule_ids: tuple[str, ...] = ()
    code: str = ""
    effective_scopes: tuple[str, ...] = ()
    diagnostics: tuple[dict[str, Any], ...] = ()
    shadow: dict[str, Any] | None = None
    latency_us: float | None = None
    result_digest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready record (tuples as lists, ``"v"`` set), without the chain fields."""
        return {
            "v": AUDIT_VERSION,
            "kind": self.kind,
            "decision_id": self.decision_id,
            "ts": self.ts,
            "trace_id": self.trace_id,
            "user": self.user,
            "agent": self.agent,
            "delegation": list(self.delegation),
            "run_id": self.run_id,
            "action": self.action,
            "resource": self.resource,
            "args": self.args,
            "args_digest": self.args_digest,
            "effect": self.effect,
            "rule_ids": list(self.rule_ids),
            "reason": self.reason,
            "code": self.code,
            "effective_scopes": list(self.effective_scopes),
            "diagnostics": list(self.diagnostics),
            "shadow": self.shadow,
            "latency_us": self.latency_us,
            "result_digest": self.result_digest,
            "extra": self.extra,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AuditEvent:
        """The event a stored record (or payload) of this version was written from."""
        version = payload.get("v")
        if version != AUDIT_VERSION:
            raise ValueError(f"audit record version `{version}` is not {AUDIT_VERSION}")
        return cls(
            kind=payload["kind"],
            decision_id=payload["decision_id"],
            ts=payload["ts"],
            agent=payload["agent"],
            action=payload["action"],
            effect=payload["effect"],
            reason=payload["reason"],
            trace_id=payload.get("trace_id"),
            user=payload.get("user"),
            delegation=tuple(payload.get("delegation") or ()),
            run_id=payload.get("run_id"),
            resource=payload.get("resource"),
            args=payload.get("args") or {},
            args_digest=payload.get("args_digest", ""),
            rule_ids=tuple(payload.get("rule_ids") or ()),
            code=payload.get("code", ""),
            effective_scopes=tuple(payload.get("effective_scopes") or ()),
            diagnostics=tuple(payload.get("diagnostics") or ()),
            shadow=payload.get("shadow"),
            latency_us=payload.get("latency_us"),
            result_digest=payload.get("result_digest"),
            extra=payload.get("extra") or {},
        )
