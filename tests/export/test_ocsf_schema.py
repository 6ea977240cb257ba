"""The OCSF export as its consumers check it: every event of the demo's export validates
against OCSF 1.3.0 API Activity (0 errors) and parses with ``py-ocsf-models``.

Two validators read the same compiled 1.3.0 schema (tests/export/ocsf-1.3.0/README.md):
the strict JSON Schema kept beside this file (unknown attributes, required ones, closed
enums, ``at_least_one``), and a walk over ``ocsf-lib``'s model of it for what JSON Schema
cannot say (an ``*_id`` and its caption sibling must agree, except for Other).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import ocsf_json_schema
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from ocsf.schema import OcsfAttr, OcsfSchema, from_file
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
from py_ocsf_models.events.base_event import BaseEvent
from py_ocsf_models.objects.api import API
from py_ocsf_models.objects.observable import Observable
from py_ocsf_models.objects.policy import Policy
from py_ocsf_models.objects.resource_details import ResourceDetails
from py_ocsf_models.objects.user import User

from proctor.cli.main import cli
from proctor.export.errors import EXPORT_INVALID_RECORD, ExportError
from proctor.export.ocsf import OCSF_VERSION, to_ocsf
from tests.export.conftest import START  # 2026-11-24T08:00:00Z

KEPT = Path(__file__).parent / "ocsf-1.3.0" / "api_activity.schema.json"
VALIDATOR = Draft202012Validator(json.loads(KEPT.read_text()))


@functools.cache
def compiled() -> OcsfSchema:
    """The compiled 1.3.0 schema, read by ``ocsf-lib``."""
    return from_file(str(Path(ocsf_json_schema.__file__).parent / "ocsf" / f"{OCSF_VERSION}.json"))


def sibling_errors(value: dict[str, Any], attributes: dict[str, OcsfAttr], path: str) -> list[str]:
    errors: list[str] = []
    for name, attr in attributes.items():
        if name not in value:
            continue
        item = value[name]
        if attr.enum and attr.sibling and attr.sibling in value:
            member = attr.enum.get(str(item))
            caption = member.caption if member is not None else "Other"  # Other: source-defined
            if caption != "Other" and value[attr.sibling] != caption:
                errors.append(f"{path}{attr.sibling}: `{value[attr.sibling]}` is not `{caption}`")
        if attr.type == "object_t" and attr.object_type and attr.object_type != "object":
            nested = compiled().objects[attr.object_type].attributes
            for index, element in enumerate(item if attr.is_array else [item]):
                where = f"{path}{name}[{index}]." if attr.is_array else f"{path}{name}."
                if isinstance(element, dict):
                    errors += sibling_errors(element, nested, where)
    return errors


def ocsf_errors(event: dict[str, Any]) -> list[str]:
    """Every way ``event`` breaks OCSF 1.3.0 API Activity; empty when it is valid."""
    errors = [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(event)]
    return errors + sibling_errors(event, compiled().classes["api_activity"].attributes, "")


def parse_with_py_ocsf_models(event: dict[str, Any]) -> None:
    """``py-ocsf-models`` has no API Activity class: its base event and the objects it has."""
    BaseEvent.model_validate(event)
    API.model_validate(event["api"])
    actor = event["actor"]
    if "user" in actor:
        User.model_validate(actor["user"])
    for authorization in actor["authorizations"]:
        if "policy" in authorization:
            Policy.model_validate(authorization["policy"])
    for resource in event.get("resources", ()):
        ResourceDetails.model_validate(resource)
    for observable in event.get("observables", ()):
        Observable.model_validate(observable)


@pytest.fixture(scope="module")
def demo_events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The OCSF export of the audit ``proctor demo`` writes, as ``audit export`` writes it."""
    directory = tmp_path_factory.mktemp("demo")
    db, out = directory / "demo.db", directory / "ocsf.jsonl"
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    args = ["audit", "export", "--db", str(db), "--format", "ocsf", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_the_kept_schema_is_the_pinned_ocsf_1_3_0() -> None:
    generated = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION)).get_class_schema(
        "api_activity", profiles=[]
    )
    assert json.loads(KEPT.read_text()) == generated
    api_activity = compiled().classes["api_activity"]
    assert api_activity.uid == 6003
    assert "security_control" not in (api_activity.profiles or [])  # no disposition here


def test_every_demo_event_validates_and_parses(demo_events: list[dict[str, Any]]) -> None:
    kinds = {event["metadata"]["event_code"] for event in demo_events}
    assert {"decision", "output", "run", "approval"} <= kinds
    for event in demo_events:
        assert ocsf_errors(event) == [], event["metadata"]
        parse_with_py_ocsf_models(event)


def test_the_validators_catch_what_the_old_mapping_wrote(
    demo_events: list[dict[str, Any]],
) -> None:
    event = demo_events[0]
    assert any("disposition" in error for error in ocsf_errors({**event, "disposition_id": 1}))
    assert ocsf_errors({**event, "actor": {"authorizations": [{"decision": "allow"}]}})
    assert ocsf_errors({**event, "severity": "High"})  # severity_id 1 is Informational
    with pytest.raises(ValueError, match="type_id"):
        User.model_validate({"uid": "alice", "name": "alice"})


RECORD = {
    "seq": 7,
    "v": 1,
    "kind": "decision",
    "decision_id": "d7",
    "ts": "2026-11-24T08:00:00.000000Z",
    "action": "frobnicate",
    "effect": "deny",
    "code": "",
    "reason": "no rule allows it",
}


@pytest.mark.parametrize(
    "record",
    [
        RECORD,  # no agent, no user, no resource part: the actor still names an app
        {**RECORD, "user": {"sub": "alice"}, "agent": {"id": ""}},
        {**RECORD, "kind": "policy_change", "effect": "allow", "resource": "p.yaml"},
        {**RECORD, "kind": "run", "effect": "start", "agent": {"id": "bot"}},
        {**RECORD, "kind": "approval", "effect": "rejected", "user": {"sub": "bob"}},
        {**RECORD, "action": "write:refund", "effect": "require_approval", "rule_ids": ["r"]},
        {**RECORD, "ts": "2026-11-24T09:30:00+01:30"},
    ],
)
def test_records_without_an_agent_user_or_known_effect_validate(record: dict[str, Any]) -> None:
    event = to_ocsf(record)
    assert ocsf_errors(event) == []
    parse_with_py_ocsf_models(event)
    assert event["metadata"]["log_version"] == "1"
    assert event["status_code"] == (record["code"] or "none")


def test_the_offset_and_the_time_come_from_ts() -> None:
    event = to_ocsf({**RECORD, "ts": "2026-11-24T09:30:00+01:30"})
    assert (event["time"], event["timezone_offset"]) == (int(START.timestamp() * 1000), 90)


@pytest.mark.parametrize("ts", [None, "", "yesterday", "2026-11-24T08:00:00", 1795941000, ["x"]])
def test_a_record_without_a_readable_time_is_refused(ts: object) -> None:
    with pytest.raises(ExportError) as raised:
        to_ocsf({**RECORD, "ts": ts})
    assert raised.value.code == EXPORT_INVALID_RECORD


@pytest.mark.parametrize(
    "change",
    [
        {"user": "alice"},
        {"user": {"sub": 7}},
        {"agent": ["bot"]},
        {"agent": {"id": {"nested": 1}}},
        {"rule_ids": "r1"},
        {"rule_ids": ["r1", 2]},
        {"kind": 1},
        {"effect": None, "action": ["read", "x"]},
        {"seq": "7"},
        {"seq": True},
        {"extra": "tool"},
        {"trace_id": 42},
    ],
)
def test_a_record_of_the_wrong_shape_is_refused(change: dict[str, Any]) -> None:
    """An event that would not validate is an error, not a line a SIEM rejects."""
    with pytest.raises(ExportError) as raised:
        to_ocsf({**RECORD, **change})
    assert raised.value.code == EXPORT_INVALID_RECORD
