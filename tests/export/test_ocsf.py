"""Audit records as OCSF API Activity events: required fields, outcomes, unmapped extras."""

from __future__ import annotations

from pathlib import Path

from proctor.export.ocsf import OCSF_VERSION, to_ocsf
from proctor.export.records import iter_records, record_of
from proctor.storage import open_audit_store
from tests.export.conftest import START

# OCSF 1.3 API Activity: the class's required attributes and the base event's
REQUIRED = (
    "activity_id",
    "category_uid",
    "class_uid",
    "type_uid",
    "severity_id",
    "time",
    "metadata",
    "actor",
    "api",
    "src_endpoint",
)


def events(db: Path) -> list[dict[str, object]]:
    store = open_audit_store(str(db))
    try:
        return [to_ocsf(record_of(row), product_version="1.2.3") for row in iter_records(store)]
    finally:
        store.close()


def test_every_event_has_the_required_fields(db: Path) -> None:
    for event in events(db):
        missing = [name for name in REQUIRED if name not in event]
        assert not missing, missing
        assert event["class_uid"] == 6003
        assert event["category_uid"] == 6
        assert event["type_uid"] == 600300 + event["activity_id"]  # type: ignore[operator]
        metadata = event["metadata"]
        assert isinstance(metadata, dict)
        assert metadata["version"] == OCSF_VERSION
        assert metadata["product"] == {
            "name": "proctor",
            "vendor_name": "proctor",
            "version": "1.2.3",
        }


def test_an_allowed_read(db: Path) -> None:
    event = events(db)[0]
    assert event["time"] == int(START.timestamp() * 1000)  # 2026-11-24T08:00:00Z
    assert (event["activity_id"], event["activity_name"]) == (2, "Read")
    assert event["timezone_offset"] == 0
    assert (event["status_id"], event["status"], event["severity_id"]) == (1, "Success", 1)
    assert event["status_code"] == "rule"
    assert event["actor"] == {
        "app_name": "support-bot",
        "app_uid": "support-bot",
        "user": {
            "uid": "alice",
            "name": "alice",
            "type_id": 1,
            "type": "User",
            "account": {"uid": "alice", "name": "alice", "type_id": 0, "type": "Unknown"},
        },
        "authorizations": [{"decision": "allow", "policy": {"uid": "reads", "name": "reads"}}],
    }
    assert event["api"] == {
        "operation": "read:orders",
        "service": {"name": "orders", "uid": "orders", "version": "unknown"},
        "request": {"uid": event["metadata"]["uid"]},  # type: ignore[index]
    }
    assert event["resources"] == [{"uid": "A1", "type": "orders"}]
    assert event["observables"] == [
        {"name": "actor.user.name", "type_id": 4, "type": "User Name", "value": "alice"},
        {"name": "actor.app_uid", "type_id": 99, "type": "Agent", "value": "support-bot"},
        {"name": "resources.uid", "type_id": 10, "type": "Resource UID", "value": "A1"},
    ]
    metadata = event["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["correlation_uid"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert (metadata["log_provider"], metadata["log_version"]) == ("proctor", "1")
    unmapped = event["unmapped"]
    assert isinstance(unmapped, dict)
    assert (unmapped["disposition_id"], unmapped["disposition"]) == (1, "Allowed")
    assert "v" not in unmapped  # it is metadata.log_version
    assert unmapped["args"] == {"order": "A1"}
    assert unmapped["kind"] == "decision"
    assert unmapped["user_claims"] == {"tenant": "acme"}
    assert unmapped["agent_tier"] == "verified"
    assert {"hash", "args_digest", "effective_scopes"} <= set(unmapped)


def test_a_denied_delete_and_a_held_refund(db: Path) -> None:
    _, delete, refund, *_ = events(db)
    assert "disposition" not in delete  # security_control profile: not in API Activity
    assert (delete["activity_id"], delete["unmapped"]["disposition"], delete["status"]) == (  # type: ignore[index]
        4,
        "Blocked",
        "Failure",
    )
    assert delete["status_detail"] == delete["message"] == "nothing is deleted"
    assert delete["severity_id"] == 3
    assert (refund["activity_id"], refund["activity_name"]) == (3, "Update")
    unmapped = refund["unmapped"]
    assert isinstance(unmapped, dict)
    assert (unmapped["disposition_id"], unmapped["disposition"]) == (99, "Approval Required")


def test_other_verbs_and_kinds_are_other_activities() -> None:
    record = {
        "seq": 9,
        "kind": "approval",
        "action": "write:refund",
        "effect": "approved",
        "ts": "2026-11-24T08:00:00.000000Z",
        "decision_id": "d1",
        "agent": {"id": "bot"},
    }
    event = to_ocsf(record)
    assert (event["activity_id"], event["activity_name"], event["unmapped"]["disposition"]) == (  # type: ignore[index]
        99,
        "approval",
        "Allowed",
    )
    odd = to_ocsf({**record, "kind": "decision", "action": "frobnicate:thing", "effect": "allow"})
    assert (odd["activity_id"], odd["activity_name"]) == (99, "frobnicate")
    assert "user" not in odd["actor"]  # type: ignore[operator]
