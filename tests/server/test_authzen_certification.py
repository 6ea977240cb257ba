"""The AuthZEN Authorization API 1.0 certification scenario (openid/authzen,
``certification/authorization-api-1_0-scenario.md``) against `proctor serve` loaded with the
scenario's fixture (tests/server/authzen/certification-policy.yaml). Each case names its
section; the levels proctor meets are written down in docs/gateway.md."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.server.authzen_pdp import client_fixture, pdp_fixture  # noqa: F401 (fixtures)

ALICE = {"type": "user", "id": "alice"}
BOB = {"type": "user", "id": "bob"}
ADMIN_BOB = {**BOB, "properties": {"role": "admin"}}
READ, WRITE = {"name": "read"}, {"name": "write"}
RECORD_1 = {"type": "record", "id": "record-1"}
ACTIVE_1 = {**RECORD_1, "properties": {"status": "active"}}
ARCHIVED_2 = {"type": "record", "id": "record-2", "properties": {"status": "archived"}}


def _one(subject: Any, action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    return {"subject": subject, "action": action, "resource": resource, **more}


# (section, request, decision)
EVALUATIONS = [
    ("C.2.2.1 permit", _one(ALICE, READ, RECORD_1), True),
    ("C.2.2.2 deny", _one(BOB, WRITE, RECORD_1), False),
    (
        "C.2.2.3 context",
        _one(
            ALICE, READ, RECORD_1, context={"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}
        ),
        True,
    ),
    ("C.2.2.4 resource properties", _one(ALICE, WRITE, ARCHIVED_2), False),
    ("C.2.2.5 subject properties", _one(ADMIN_BOB, WRITE, ARCHIVED_2), True),
    (
        "C.2.2.6 soft delete",
        _one(ALICE, {"name": "delete", "properties": {"soft": True}}, RECORD_1),
        True,
    ),
    (
        "C.2.2.7 hard delete",
        _one(ALICE, {"name": "delete", "properties": {"soft": False}}, RECORD_1),
        False,
    ),
    (
        "C.2.2.8 more properties",
        _one(
            {**ALICE, "properties": {"department": "Sales", "role": "manager"}},
            {"name": "read", "properties": {"method": "GET"}},
            {**RECORD_1, "properties": {"status": "active", "owner": "bob"}},
        ),
        True,
    ),
    (
        "C.2.2.9 unknown fields",
        _one(ALICE, READ, RECORD_1, foo="bar", futureField={"nested": True}),
        True,
    ),
]


@pytest.mark.parametrize(
    ("section", "request_body", "decision"), EVALUATIONS, ids=[e[0] for e in EVALUATIONS]
)
def test_basic_decisions(
    client: httpx.Client, section: str, request_body: Any, decision: bool
) -> None:
    response = client.post("/access/v1/evaluation", json=request_body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["decision"] is decision  # C.2.3.1: a boolean
    assert isinstance(body.get("context", {}), dict)  # C.2.3.2


BAD_BODIES = [
    ("C.2.4.1 no subject", {"action": READ, "resource": RECORD_1}),
    ("C.2.4.1 no action", {"subject": ALICE, "resource": RECORD_1}),
    ("C.2.4.1 no resource", {"subject": ALICE, "action": READ}),
    ("C.2.4.2 subject without type", _one({"id": "alice"}, READ, RECORD_1)),
    ("C.2.4.2 subject without id", _one({"type": "user"}, READ, RECORD_1)),
    ("C.2.4.2 action without name", _one(ALICE, {}, RECORD_1)),
    ("C.2.4.2 resource without type", _one(ALICE, READ, {"id": "record-1"})),
    ("C.2.4.2 resource without id", _one(ALICE, READ, {"type": "record"})),
    ("C.2.4.6 subject a string", _one("alice", READ, RECORD_1)),
    ("C.2.4.6 action name a number", _one(ALICE, {"name": 123}, RECORD_1)),
]


@pytest.mark.parametrize(("section", "request_body"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_basic_errors_are_400(client: httpx.Client, section: str, request_body: Any) -> None:
    assert client.post("/access/v1/evaluation", json=request_body).status_code == 400


def test_basic_transport_errors_are_400(client: httpx.Client) -> None:
    one = json.dumps(_one(ALICE, READ, RECORD_1))
    as_text = client.post(
        "/access/v1/evaluation", content=one, headers={"Content-Type": "text/plain"}
    )
    assert as_text.status_code == 400  # C.2.4.3
    assert (
        client.post("/access/v1/evaluation", content=b'{"subject": ').status_code == 400
    )  # C.2.4.4
    assert client.post("/access/v1/evaluation", content=b"").status_code == 400  # C.2.4.5


def test_basic_headers_and_idempotency(client: httpx.Client) -> None:
    one = _one(ALICE, READ, RECORD_1)
    echoed = client.post("/access/v1/evaluation", json=one, headers={"X-Request-ID": "req-42"})
    assert echoed.headers["x-request-id"] == "req-42"  # C.2.5.1
    refused = client.post("/access/v1/evaluation", json={}, headers={"X-Request-ID": "req-43"})
    assert refused.status_code == 400
    assert refused.headers["x-request-id"] == "req-43"  # on errors too
    injected = client.post("/access/v1/evaluation", json=one, headers={"X-Request-ID": "a" * 300})
    assert "x-request-id" not in injected.headers  # too long to be a request id: not echoed
    assert client.post("/access/v1/evaluation", json=one).status_code == 200  # C.2.5.2
    decisions = {
        client.post("/access/v1/evaluation", json=one).json()["decision"] for _ in range(3)
    }
    assert decisions == {True}  # C.2.6


# (section, request, decisions; None: a boolean the scenario does not fix)
BATCHES = [
    (
        "C.3.2.1 structure",
        {
            "subject": ALICE,
            "action": READ,
            "evaluations": [{"resource": RECORD_1}, {"resource": {**RECORD_1, "id": "record-2"}}],
        },
        [True, None],
    ),
    (
        "C.3.2.2 fixture decisions in order",
        {
            "subject": BOB,
            "resource": RECORD_1,
            "evaluations": [{"action": READ}, {"action": WRITE}],
        },
        [True, False],
    ),
    (
        "C.3.2.3 resource properties per item",
        {
            "subject": ALICE,
            "action": WRITE,
            "evaluations": [{"resource": ACTIVE_1}, {"resource": ARCHIVED_2}],
        },
        [True, False],
    ),
    (
        "C.3.2.4 subject properties per item",
        {
            "action": WRITE,
            "resource": ARCHIVED_2,
            "evaluations": [{"subject": ALICE}, {"subject": ADMIN_BOB}],
        },
        [False, True],
    ),
    (
        "C.3.2.5 no defaults",
        {"evaluations": [_one(ALICE, READ, RECORD_1), _one(BOB, WRITE, RECORD_1)]},
        [True, False],
    ),
    (
        "C.3.2.6 context inheritance",
        {
            "subject": ALICE,
            "action": READ,
            "context": {"time": "2025-06-27T18:03-07:00"},
            "evaluations": [
                {"resource": RECORD_1},
                {
                    "resource": {**RECORD_1, "id": "record-2"},
                    "context": {"source": "batch-override"},
                },
            ],
        },
        [None, None],
    ),
    (
        "C.3.2.7 whole-entity defaults",
        {
            "subject": ALICE,
            "action": WRITE,
            "resource": ACTIVE_1,
            "evaluations": [{}, {"resource": ARCHIVED_2}],
        },
        [True, False],
    ),
    (
        "C.3.4.1 an item missing a part",
        {
            "subject": ALICE,
            "action": READ,
            "options": {"evaluations_semantic": "execute_all"},
            "evaluations": [{"resource": RECORD_1}, {}],
        },
        [True, False],
    ),
]


@pytest.mark.parametrize(
    ("section", "request_body", "decisions"), BATCHES, ids=[b[0] for b in BATCHES]
)
def test_batch_decisions(
    client: httpx.Client, section: str, request_body: Any, decisions: list[bool | None]
) -> None:
    response = client.post("/access/v1/evaluations", json=request_body)
    assert response.status_code == 200
    items = response.json()["evaluations"]
    assert len(items) == len(decisions)  # C.3.3.1, in order (C.3.3.2)
    for item, decision in zip(items, decisions, strict=True):
        assert isinstance(item["decision"], bool)  # C.3.3.3
        assert decision is None or item["decision"] is decision


def test_an_item_missing_a_part_says_why(client: httpx.Client) -> None:
    request = {"subject": ALICE, "action": READ, "evaluations": [{}]}
    item = client.post("/access/v1/evaluations", json=request).json()["evaluations"][0]
    assert item["decision"] is False
    assert item["context"]["code"] == "invalid_body"
    assert "resource" in item["context"]["reason_admin"]["en"]


def test_discovery_metadata(client: httpx.Client, pdp: Any) -> None:
    response = httpx.get(f"{pdp.url}/.well-known/authzen-configuration")  # no credential
    assert response.status_code == 200  # C.6.1, C.6.2
    assert response.headers["content-type"] == "application/json"
    metadata = response.json()
    assert metadata == {
        "policy_decision_point": pdp.url,
        "access_evaluation_endpoint": f"{pdp.url}/access/v1/evaluation",
        "access_evaluations_endpoint": f"{pdp.url}/access/v1/evaluations",
    }  # C.6.3, C.6.4: no search endpoint, proctor has no Search API


# -- the protocol deviations the interop runs found --------------------------------------------


def test_unknown_members_are_ignored_everywhere(client: httpx.Client) -> None:
    subject = {**ALICE, "_note": "a PEP's comment"}
    one = _one(subject, {**READ, "x": 1}, {**RECORD_1, "y": [2]}, z=None)
    assert client.post("/access/v1/evaluation", json=one).json()["decision"] is True
    batch = {
        "subject": subject,
        "action": READ,
        "evaluations": [{"resource": RECORD_1, "w": 3}],
        "v": 4,
    }
    assert client.post("/access/v1/evaluations", json=batch).json()["evaluations"] == [
        {"decision": True}
    ]


def test_an_empty_top_level_default_is_accepted(client: httpx.Client) -> None:
    """The Todo 1.1 scenario's own example sends `"resource": {}` as a default."""
    batch = {
        "subject": ALICE,
        "action": READ,
        "resource": {},
        "evaluations": [{"resource": RECORD_1}, {}],
    }
    items = client.post("/access/v1/evaluations", json=batch).json()["evaluations"]
    assert [item["decision"] for item in items] == [True, False]


def test_an_items_empty_context_replaces_the_top_level_one(client: httpx.Client) -> None:
    batch = {
        "subject": ALICE,
        "action": {"name": "probe"},
        "resource": RECORD_1,
        "context": {"source": "top"},
        "evaluations": [{}, {"context": {}}],
    }
    items = client.post("/access/v1/evaluations", json=batch).json()["evaluations"]
    assert items == [{"decision": True}, {"decision": False}]
