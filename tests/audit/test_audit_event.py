"""AuditEvent, the versioned record the runtime hands to a store (proctor.model.audit_event)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proctor.model.audit_event import AUDIT_VERSION, AuditEvent, audit_timestamp
from tests.audit.factories import make_event

PAYLOAD_KEYS = {
    "v", "kind", "decision_id", "ts", "trace_id", "user", "agent", "delegation", "run_id",
    "action", "resource", "args", "args_digest", "effect", "rule_ids", "reason", "code",
    "effective_scopes", "diagnostics", "shadow", "latency_us", "result_digest", "extra",
}  # fmt: skip


def test_payload_holds_every_field_and_the_version() -> None:
    payload = make_event(3).to_payload()
    assert set(payload) == PAYLOAD_KEYS
    assert payload["v"] == AUDIT_VERSION == 1
    assert payload["rule_ids"] == ["small-refunds"]
    assert payload["delegation"] == []
    assert json.loads(json.dumps(payload)) == payload


def test_payload_round_trips_through_from_payload() -> None:
    event = make_event(3, diagnostics=({"code": "missing", "message": "m", "rule_id": None},))
    assert AuditEvent.from_payload(event.to_payload()) == event


def test_from_payload_refuses_other_versions() -> None:
    with pytest.raises(ValueError, match="version"):
        AuditEvent.from_payload(make_event(1).to_payload() | {"v": 2})


def test_defaults_keep_construction_minimal() -> None:
    event = AuditEvent(
        kind="tier_change", decision_id="x", ts="2026-01-01T00:00:00.000000Z",
        agent={"id": "a"}, action="admin:tier", effect="allow", reason="promoted",
    )  # fmt: skip
    payload = event.to_payload()
    assert (payload["args"], payload["extra"], payload["user"]) == ({}, {}, None)


def test_audit_timestamp_is_utc_with_microseconds_and_z() -> None:
    berlin = timezone(timedelta(hours=2))
    when = datetime(2026, 5, 9, 9, 35, 25, tzinfo=berlin)
    assert audit_timestamp(when) == "2026-05-09T07:35:25.000000Z"
    assert audit_timestamp(datetime(2026, 5, 9, 7, 35, 25, 1, tzinfo=UTC)).endswith(".000001Z")
    with pytest.raises(ValueError, match="aware"):
        audit_timestamp(datetime(2026, 5, 9))
