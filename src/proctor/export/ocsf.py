"""Audit records as OCSF 1.3 events of class API Activity (``class_uid`` 6003).

A proctor decision is a verdict on one call to a tool's API, made before the
call runs, so the Application Activity category's *API Activity* class fits:
``api.operation`` is the action, ``actor`` the user and the agent (as the
application acting), ``actor.authorizations`` the rules that decided,
``status`` whether the call was let through. Fields with no OCSF home stay
under ``unmapped``; so does the disposition, which belongs to the
``security_control`` profile that API Activity does not take (1.3 to 1.7).
Every event validates against the 1.3.0 class (tests/export/test_ocsf_schema.py).
The full field table is in docs/observability.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from proctor.export.errors import EXPORT_INVALID_RECORD, ExportError

OCSF_VERSION = "1.3.0"
API_ACTIVITY = 6003
APPLICATION_ACTIVITY = 6
PROVIDER = "proctor"
UNKNOWN = "unknown"  # what OCSF wants named and the record does not know
USER_TYPE = (1, "User")  # user.type_id: the person the agent acts for
USER_NAME, RESOURCE_UID, OTHER = 4, 10, 99  # observable type_ids

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

# effect -> (disposition_id, disposition, status_id, status, severity_id); the disposition
# goes to `unmapped` (security_control profile)
_OUTCOMES: dict[str, tuple[int, str, int, str, int]] = {
    "allow": (1, "Allowed", 1, "Success", 1),
    "deny": (2, "Blocked", 2, "Failure", 3),
    "require_approval": (99, "Approval Required", 99, "Pending", 2),
    "approved": (1, "Allowed", 1, "Success", 1),
    "rejected": (2, "Blocked", 2, "Failure", 2),
    "start": (0, "Unknown", 1, "Success", 1),  # a run: nothing was let through or blocked
    "end": (0, "Unknown", 1, "Success", 1),
}
_SEVERITIES = {1: "Informational", 2: "Low", 3: "Medium"}
_TEXT_FIELDS = ("kind", "decision_id", "action", "effect", "reason", "code", "trace_id", "resource")
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
    """One audit record (as ``records.record_of`` gives it) as an OCSF API Activity event.

    A record without a readable ``ts`` is an ``export_invalid_record`` error:
    ``time`` is required, and a guessed one would misplace the event. So is a
    mapped field of the wrong type: the event would not validate.
    """
    _check_shape(record)
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
    moment = _moment(record)
    user = record.get("user") or {}
    agent = record.get("agent") or {}
    extra = record.get("extra") or {}
    tool = extra.get("tool") if isinstance(extra, dict) else None
    service = str(tool) if isinstance(tool, str) and tool else resource_type or action or UNKNOWN
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
        "time": int(moment.timestamp() * 1000),
        "timezone_offset": int((moment.utcoffset() or timedelta()).total_seconds() // 60),
        "severity_id": severity_id,
        "severity": _SEVERITIES[severity_id],
        "status_id": status_id,
        "status": status,
        "status_code": record.get("code") or "none",
        "status_detail": record.get("reason") or None,
        "message": record.get("reason") or None,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": record.get("decision_id"),
            "correlation_uid": record.get("trace_id"),
            "original_time": record.get("ts"),
            "sequence": record.get("seq"),
            "log_name": "proctor audit",
            "log_provider": PROVIDER,
            "log_version": str(record["v"]) if record.get("v") is not None else None,
            "event_code": kind,
            "product": {"name": PROVIDER, "vendor_name": PROVIDER, "version": product_version},
        },
        "actor": _actor(user, agent, effect, rule_ids),
        "api": {
            "operation": action,
            "service": {"name": service, "uid": service, "version": UNKNOWN},
            "request": {"uid": record.get("decision_id")},
        },
        "src_endpoint": {"name": agent.get("id") or UNKNOWN},
    }
    if record.get("resource"):
        event["resources"] = [{"uid": record["resource"], "type": resource_type or None}]
    event["observables"] = _observables(user, agent, record.get("resource"))
    event["unmapped"] = {key: value for key, value in record.items() if key not in _MAPPED}
    if disposition_id:  # security_control profile only: kept, but outside the class
        event["unmapped"]["disposition_id"] = disposition_id
        event["unmapped"]["disposition"] = disposition
    if user.get("claims"):
        event["unmapped"]["user_claims"] = user["claims"]
    for key in ("role", "tier", "tags"):
        if agent.get(key):
            event["unmapped"][f"agent_{key}"] = agent[key]
    return _without_none(event)


def _actor(
    user: dict[str, Any], agent: dict[str, Any], effect: str, rule_ids: list[str]
) -> dict[str, Any]:
    """The agent as the application acting, the user it acts for; OCSF wants one of them
    (or a process or session) named, so without both the app is ``unknown``."""
    sub = user.get("sub")
    actor: dict[str, Any] = {
        "app_name": agent.get("id") or (None if sub else UNKNOWN),
        "app_uid": agent.get("id") or None,
        "authorizations": [
            {"decision": effect, "policy": {"uid": rule_id, "name": rule_id}}
            for rule_id in rule_ids
        ]
        or [{"decision": effect}],
    }
    if sub:
        type_id, type_name = USER_TYPE
        actor["user"] = {
            "uid": sub,
            "name": sub,
            "type_id": type_id,
            "type": type_name,
            # the subject's account at its identity provider, of a type proctor is not told
            "account": {"uid": sub, "name": sub, "type_id": 0, "type": "Unknown"},
        }
    return actor


def _observables(
    user: dict[str, Any], agent: dict[str, Any], resource: object
) -> list[dict[str, Any]] | None:
    """The user, the agent and the resource, where a SIEM indexes values across classes."""
    found: list[dict[str, Any]] = []
    if user.get("sub"):
        found.append(
            {
                "name": "actor.user.name",
                "type_id": USER_NAME,
                "type": "User Name",
                "value": user["sub"],
            }
        )
    if agent.get("id"):
        found.append(
            {"name": "actor.app_uid", "type_id": OTHER, "type": "Agent", "value": agent["id"]}
        )
    if resource:
        found.append(
            {
                "name": "resources.uid",
                "type_id": RESOURCE_UID,
                "type": "Resource UID",
                "value": str(resource),
            }
        )
    return found or None


def _other_name(kind: str, verb: str) -> str:
    """An Other activity's name: the record kind (``approval``), or the action's verb."""
    return kind if kind != "decision" else (verb or kind)


def _check_shape(record: dict[str, Any]) -> None:
    """The mapped fields hold what proctor writes there, or ``export_invalid_record``."""
    user, agent, rule_ids = record.get("user"), record.get("agent"), record.get("rule_ids")
    expected: list[tuple[str, object, type | tuple[type, ...]]] = [
        (key, record.get(key), str) for key in _TEXT_FIELDS
    ]
    expected += [("user", user, dict), ("agent", agent, dict), ("extra", record.get("extra"), dict)]
    expected += [
        ("rule_ids", rule_ids, (list, tuple)),
        ("seq", record.get("seq"), int),
    ]
    if isinstance(user, dict):
        expected.append(("user.sub", user.get("sub"), str))
    if isinstance(agent, dict):
        expected.append(("agent.id", agent.get("id"), str))
    if isinstance(rule_ids, list | tuple):
        expected += [("rule_ids[]", rule_id, str) for rule_id in rule_ids]
    for name, value, kind in expected:
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise ExportError(
                f"record {record.get('seq')!r:.32}: `{name}` is a {type(value).__name__}, "
                "not what proctor writes there",
                code=EXPORT_INVALID_RECORD,
            )


def _moment(record: dict[str, Any]) -> datetime:
    """The record's ``ts`` as an aware datetime, or ``export_invalid_record``."""
    ts = record.get("ts")
    try:
        if not isinstance(ts, str):
            raise ValueError
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ExportError(
            f"record {record.get('seq')} has no readable time (`ts` {str(ts)[:64]!r}): "
            "an ISO 8601 time with an offset is required",
            code=EXPORT_INVALID_RECORD,
        )
    return moment


def _without_none(value: dict[str, Any]) -> dict[str, Any]:
    """OCSF omits an attribute rather than sending null (nested objects and lists too);
    ``unmapped`` keeps the record's own values as they are."""
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if key != "unmapped":
            if isinstance(item, dict):
                item = _without_none(item)
            elif isinstance(item, list):
                item = [_without_none(x) if isinstance(x, dict) else x for x in item]
        cleaned[key] = item
    return cleaned
