"""What reaches the server of a governed request is what was checked, over the MCP wire.

The ``raw`` server logs every message it receives, so a test sees the
arguments the proxy passed on, not only the answer the client got.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from proctor import Proctor
from tests.mcp.conftest import audit_records
from tests.mcp.wires import Message, Wire, open_wire

CARD = "4111 1111 1111 1111"
TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
POLICY = """\
name: inputs
scan:
  input:
    pii.payment_card: {action: redact, mode: mask}
    secret: deny
rules:
  - {id: tools, action: "call:*", effect: allow}
  - {id: pay, action: "get:*", effect: allow}
"""
FRONTS = pytest.mark.parametrize("front", ["stdio", "http"])


@pytest.fixture
def wired(workdir: Path) -> Path:
    (workdir / "policy.yaml").write_text(POLICY)
    return workdir


def _wire(front: str, workdir: Path) -> Wire:
    return open_wire(front, workdir, "raw", {"RAW_SERVER_LOG": str(workdir / "raw.jsonl")})


def _received(workdir: Path, method: str) -> list[Message]:
    log = workdir / "raw.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [m for m in map(json.loads, lines) if m.get("method") == method]


def _request(request_id: int, method: str, **params: Any) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


@FRONTS
def test_arguments_that_are_no_object_never_reach_the_server(front: str, wired: Path) -> None:
    """A list or a text as `arguments` was checked as no arguments at all, so a secret
    in it passed the input scan and reached the server; now it is refused `-32602`."""
    wire = _wire(front, wired)
    try:
        answers = [
            wire.answer(_request(1, "tools/call", name="secret", arguments=[TOKEN])),
            wire.answer(_request(2, "tools/call", name="secret", arguments=TOKEN)),
            wire.answer(_request(3, "prompts/get", name="pay", arguments=[TOKEN])),
            wire.answer(_request(4, "tools/call", name="secret", arguments={"note": TOKEN})),
            wire.answer(_request(5, "tools/call", name="secret", arguments=None)),
        ]
    finally:
        wire.close()
    assert [a["error"]["code"] for a in answers[:3]] == [-32602] * 3
    assert "`arguments` must be an object" in answers[0]["error"]["message"]
    assert answers[3]["result"]["isError"] is True  # an object with a secret: denied
    assert not answers[4]["result"].get("isError")
    reached = _received(wired, "tools/call") + _received(wired, "prompts/get")
    assert [m["params"].get("arguments") for m in reached] == [None]
    denied = [r for r in audit_records(wired) if r["kind"] == "decision"]
    assert [r["code"] for r in denied if r["effect"] == "deny"] == ["scan_denied"]


@FRONTS
def test_arguments_the_input_scan_redacts_reach_the_server_redacted(
    front: str, wired: Path
) -> None:
    """`scan: input: ... redact` masked the arguments in the decision only; the proxy
    passed the card on in clear. Now the server gets the masked arguments."""
    wire = _wire(front, wired)
    try:
        called = wire.answer(_request(1, "tools/call", name="secret", arguments={"card": CARD}))
        prompted = wire.answer(_request(2, "prompts/get", name="pay", arguments={"card": CARD}))
    finally:
        wire.close()
    assert "result" in called
    assert "result" in prompted
    reached = _received(wired, "tools/call") + _received(wired, "prompts/get")
    assert len(reached) == 2
    assert CARD not in json.dumps(reached)
    assert [m["params"]["arguments"]["card"][-4:] for m in reached] == ["1111", "1111"]


@FRONTS
def test_argument_keys_that_mask_alike_all_reach_the_server(front: str, wired: Path) -> None:
    """Two keys the input scan masked to one placeholder reached the server as one entry."""
    (wired / "policy.yaml").write_text(POLICY.replace("    secret: deny", "    pii.email: redact"))
    people = {"ann.lee@example.org": "a", "bob.stone@example.com": "b"}
    wire = _wire(front, wired)
    try:
        called = wire.answer(_request(1, "tools/call", name="secret", arguments={"cc": people}))
    finally:
        wire.close()
    assert "result" in called
    (reached,) = _received(wired, "tools/call")
    assert reached["params"]["arguments"] == {"cc": {"[pii.email]": "a", "[pii.email]#2": "b"}}


def _by_names(
    front: str, workdir: Path, method: str, names: list[str]
) -> tuple[list[Message], Message]:
    """The answers to ``method`` of each name in one session: all but the last, the last."""
    wire = _wire(front, workdir)
    try:
        answers = [
            wire.answer(_request(n, method, name=name, arguments={"path": "x"}))
            for n, name in enumerate(names, 1)
        ]
    finally:
        wire.close()
    return answers[:-1], answers[-1]


LOOK_ALIKES = ["Touch", "TOUCH", "touch\u200b", "\uff54\uff4f\uff55\uff43\uff48", "to\u00aduch"]


@FRONTS
def test_a_tool_name_that_only_looks_like_a_listed_one_never_reaches_the_server(
    front: str, wired: Path
) -> None:
    """A rule on `call:raw/touch` is exact; `Touch`, a fullwidth or a zero-width-spaced
    `touch` dodged it, and reached a server that may look names up loosely."""
    (wired / "policy.yaml").write_text(
        POLICY + '  - {id: no-touch, action: "call:raw/touch", effect: deny}\n'
    )
    answers, exact = _by_names(front, wired, "tools/call", [*LOOK_ALIKES, "touch"])
    assert [a["error"]["code"] for a in answers] == [-32602] * len(LOOK_ALIKES)
    assert answers[0]["error"]["data"] == {"code": "mcp_look_alike"}
    assert "the server lists `touch`" in answers[0]["error"]["message"]
    assert exact["result"]["isError"] is True  # the rule denies the real name
    assert _received(wired, "tools/call") == []


PROMPT_LOOK_ALIKES = ["Pay", "PAY", "pay\u200b", "\uff50\uff41\uff59", "pa\u00ady"]


@FRONTS
def test_a_prompt_name_that_only_looks_like_a_listed_one_never_reaches_the_server(
    front: str, wired: Path
) -> None:
    """A condition on the prompt's name (`resource == 'pay'`) is exact; `Pay` or a
    zero-width-spaced `pay` dodged it and reached a server that may look names up loosely.
    The client never listed the prompts: the proxy lists them itself first."""
    deny = "  - {id: no-pay, action: 'get:raw/prompt', effect: deny, when: \"resource == 'pay'\"}\n"
    (wired / "policy.yaml").write_text(POLICY + deny)
    answers, exact = _by_names(front, wired, "prompts/get", [*PROMPT_LOOK_ALIKES, "pay"])
    assert [a["error"]["code"] for a in answers] == [-32602] * len(PROMPT_LOOK_ALIKES)
    assert [a["error"]["data"]["code"] for a in answers] == ["mcp_look_alike"] * 5
    assert "prompt `Pay` is not listed; the server lists `pay`" in answers[0]["error"]["message"]
    assert exact["error"]["data"]["effect"] == "deny"  # the rule denies the real name
    assert _received(wired, "prompts/get") == []
    assert len(_received(wired, "prompts/list")) == 1  # the proxy's own, once
    refused = [r for r in audit_records(wired) if r.get("code") == "mcp_look_alike"]
    assert len(refused) == len(PROMPT_LOOK_ALIKES)
    assert {r["action"] for r in refused} == {"get:raw/prompt"}


@FRONTS
def test_an_approved_prompt_does_not_let_another_prompt_through(front: str, wired: Path) -> None:
    """An approval was bound to the action and the arguments, not the resource: a
    `prompts/get` of `pay` approved once let `drain` (same empty arguments) through."""
    (wired / "policy.yaml").write_text(
        "name: prompts\nrules:\n  - {id: ask, action: 'get:*', effect: require_approval}\n"
    )
    wire = _wire(front, wired)
    try:
        held = wire.answer(_request(1, "prompts/get", name="pay", arguments={}))
        approval_id = held["error"]["data"]["approval_id"]
        with Proctor.from_config(wired / "proctor.yaml") as guard:
            guard.approvals.approve(approval_id, by="carol", reason="the pay prompt")
        other = wire.answer(_request(2, "prompts/get", name="drain", arguments={}))
        approved = wire.answer(_request(3, "prompts/get", name="pay", arguments={}))
    finally:
        wire.close()
    assert other["error"]["data"]["effect"] == "require_approval"
    assert other["error"]["data"]["approval_id"] != approval_id
    assert "result" in approved
    assert [m["params"]["name"] for m in _received(wired, "prompts/get")] == ["pay"]
    assert re.fullmatch(r"[0-9a-f-]+", approval_id)
