"""Audit records as OCSF 1.3 events of class API Activity (``class_uid`` 6003).

A proctor decision is a verdict on one call to a tool's API, made before the
call runs, so the Application Activity category's *API Activity* class fits:
``api.operation`` is the action, ``actor`` the user and the agent (as the
application acting), ``actor.authorizations`` the rules that decided,
``disposition`` whether the call was let through. Fields with no OCSF home
stay under ``unmapped``. The full field table is in docs/observability.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OCSF_VERSION = "1.3.0"
API_ACTIVITY = 6003
APPLICATION_ACTIVITY = 6

# activity_id of API Activity by the action's verb (`verb:resource`)
_ACTIVITIES: dict[str, tuple[int, str]] = {}
for _verbs, _activity in (
    (("create", "add", "send", "post", "insert", "issue"), (1, "Create")),
    (("read", "get", "list", "search", "query", "fetch", "view", "describe"), (2, "Read")),
    (("write", "update", "set", "edit", "patch", "put", "modify"), (3, "Update")),
    (("delete", "remove", "drop", "destroy", "revoke"), (4, "Delete")),
):
    for _verb in _verbs:
        _ACTIVITIES[_verb] = _activity

# effect -> (disposition_id, disposition, status_id, status, severity_id)
_OUTCOMES: dict[str, tuple[int, str, int, str, int]] = {
    "allow": (1, "Allowed", 1, "Success", 1),
    "deny": (2, "Blocked", 2, "Failure", 3),
    "require_approval": (99, "Approval Required", 99, "Pending", 2),
    "approved": (1, "Allowed", 1, "Success", 1),
    "rejected": (2, "Blocked", 2, "Failure", 2),
}
_SEVERITIES = {1: "Informational", 2: "Low", 3: "Medium"}
# what the mapped fields below already carry; everything else goes to `unmapped`
_MAPPED = frozenset(
    (
        "v",
        "seq",
        "decision_id",
        "ts",
        "trace_id",
        "user",
        "agent",
        "action",
        "resource",
        "effect",
        "rule_ids",
        "reason",
        "code",
    )
)


def to_ocsf(record: dict[str, Any], *, product_version: str = "0") -> dict[str, Any]:
    """One audit record (as ``records.record_of`` gives it) as an OCSF API Activity event."""
    action = str(record.get("action") or "")
    verb, _, resource_type = action.partition(":")
    kind = record.get("kind") or "decision"
    activity_id, activity = _ACTIVITIES.get(verb, (99, "Other"))
    if kind != "decision":  # approvals, token exchanges, tier changes: proctor's own operations
        activity_id, activity = 99, "Other"
    effect = str(record.get("effect") or "")
    disposition_id, disposition, status_id, status, severity_id = _OUTCOMES.get(
        effect, (0, "Unknown", 0, "Unknown", 1)
    )
    user = record.get("user") or {}
    agent = record.get("agent") or {}
    rule_ids = list(record.get("rule_ids") or [])
    event: dict[str, Any] = {
        "class_uid": API_ACTIVITY,
        "class_name": "API Activity",
        "category_uid": APPLICATION_ACTIVITY,
        "category_name": "Application Activity",
        "activity_id": activity_id,
        "activity_name": activity if activity_id != 99 else _other_name(kind, verb),
        "type_uid": API_ACTIVITY * 100 + activity_id,
        "type_name": f"API Activity: {activity}",
        "time": _epoch_ms(str(record.get("ts") or "")),
        "severity_id": severity_id,
        "severity": _SEVERITIES[severity_id],
        "status_id": status_id,
        "status": status,
        "status_code": record.get("code") or None,
        "status_detail": record.get("reason") or None,
        "disposition_id": disposition_id,
        "disposition": disposition,
        "message": record.get("reason") or None,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": record.get("decision_id"),
            "correlation_uid": record.get("trace_id"),
            "original_time": record.get("ts"),
            "sequence": record.get("seq"),
            "log_name": "proctor audit",
            "event_code": kind,
            "product": {"name": "proctor", "vendor_name": "proctor", "version": product_version},
        },
        "actor": _actor(user, agent, effect, rule_ids),
        "api": {
            "operation": action,
            "service": {"name": resource_type or action},
            "request": {"uid": record.get("decision_id")},
        },
        "src_endpoint": {"name": agent.get("id") or "unknown"},
    }
    if record.get("resource"):
        event["resources"] = [{"uid": record["resource"], "type": resource_type or None}]
    event["unmapped"] = {key: value for key, value in record.items() if key not in _MAPPED}
    if user.get("claims"):
        event["unmapped"]["user_claims"] = user["claims"]
    for key in ("role", "tier", "tags"):
        if agent.get(key):
            event["unmapped"][f"agent_{key}"] = agent[key]
    return _without_none(event)


def _actor(
    user: dict[str, Any], agent: dict[str, Any], effect: str, rule_ids: list[str]
) -> dict[str, Any]:
    actor: dict[str, Any] = {
        "app_name": agent.get("id"),
        "app_uid": agent.get("id"),
        "authorizations": [
            {"decision": effect, "policy": {"uid": rule_id, "name": rule_id}}
            for rule_id in rule_ids
        ]
        or [{"decision": effect}],
    }
    if user.get("sub"):
        actor["user"] = {"uid": user["sub"], "name": user["sub"]}
    return actor


def _other_name(kind: str, verb: str) -> str:
    """An Other activity's name: the record kind (``approval``), or the action's verb."""
    return kind if kind != "decision" else (verb or kind)


def _epoch_ms(ts: str) -> int | None:
    try:
        return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _without_none(value: dict[str, Any]) -> dict[str, Any]:
    """OCSF omits an attribute rather than sending null (nested objects too)."""
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, dict) and key != "unmapped":
            item = _without_none(item)
        cleaned[key] = item
    return cleaned
