"""Tool calls as checks: actions, the annotations policy reads, and the identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proctor.mcp.gate import Caller, ToolGate
from proctor.sdk.client import Proctor, make_agent
from tests.mcp.wires import Wire, open_wire

POLICY = """\
name: tools
rules:
  - {id: safe, action: "call:*", effect: allow, when: "tool.destructive == false"}
  - {id: repo-deletes, action: "delete:repo", effect: deny}
"""


def _gate() -> ToolGate:
    proctor = Proctor.from_policies(
        texts=(POLICY,), agents=[make_agent("bot", role="assistant")], roles={"assistant": ["*"]}
    )
    return ToolGate(proctor, actions={"git": {"git_reset": "delete:repo"}})


def test_actions_default_and_configured() -> None:
    gate = _gate()
    assert gate.action("git", "git_status") == "call:git/git_status"
    assert gate.action("git", "git_reset") == "delete:repo"
    assert gate.action("other", "git_reset") == "call:other/git_reset"


def test_annotations_with_mcp_defaults() -> None:
    gate = _gate()
    quiet = gate.describe("s", {"name": "t"})
    assert (quiet.read_only, quiet.destructive, quiet.open_world) == (False, True, True)
    reader = gate.describe("s", {"name": "r", "annotations": {"readOnlyHint": True}})
    assert (reader.read_only, reader.destructive) == (True, False)
    gentle = gate.describe("s", {"name": "g", "annotations": {"destructiveHint": False}})
    assert gentle.destructive is False
    assert gentle.context()["tool"]["listed"] is True
    assert gate.unlisted("s", "x").context()["tool"] == {
        "name": "x",
        "server": "s",
        "read_only": False,
        "destructive": True,
        "idempotent": False,
        "open_world": True,
        "listed": False,
    }


def test_checks_read_the_annotations() -> None:
    gate = _gate()
    caller = Caller(agent="bot")
    reader = gate.describe("s", {"name": "r", "annotations": {"readOnlyHint": True}})
    assert gate.check(caller, reader, {"q": 1}).allowed
    assert not gate.check(caller, gate.unlisted("s", "r"), {}).allowed  # the worst case
    reset = gate.describe("git", {"name": "git_reset", "annotations": {"readOnlyHint": True}})
    decision = gate.check(caller, reset, {})
    assert decision.denied
    assert decision.rule_ids == ("repo-deletes",)


def test_visibility_needs_a_known_caller() -> None:
    gate = _gate()
    reader = gate.describe("s", {"name": "r", "annotations": {"readOnlyHint": True}})
    writer = gate.describe("s", {"name": "w"})
    assert gate.visible(Caller(agent="bot"), [reader, writer]) == [True, False]
    assert gate.visible(Caller(agent="nobody"), [reader]) == [False]
    assert gate.visible(Caller(token="not-a-token"), [reader]) == [False]


def test_each_session_gets_a_run() -> None:
    first, second = Caller(agent="bot").in_run(), Caller(agent="bot").in_run()
    assert first.run_id is not None
    assert first.run_id != second.run_id
    assert Caller(run_id="task-7").in_run().run_id == "task-7"


DEMOTING = """\
name: tiered
rules:
  - {id: reads, action: "call:s/read", effect: allow}
  - {id: writes, action: "call:s/write", effect: allow, applies_to: {min_tier: verified}}
  - {id: admin, action: "call:s/admin", effect: allow, applies_to: {min_tier: trusted}}
  - {id: no-wipe, action: "call:s/wipe", effect: deny}
tiers:
  - id: noisy
    demote: {to: unverified, when_denials: 2, window: 1h}
"""


def test_a_demoted_agent_is_listed_exactly_what_it_may_call() -> None:
    """`tools/list` resolves the caller as a check does: a `tiers:` demotion hides at once."""
    proctor = Proctor.from_policies(
        texts=(DEMOTING,),
        agents=[make_agent("bot", role="assistant", tier="trusted")],
        roles={"assistant": ["call:*"]},
    )
    gate = ToolGate(proctor)
    caller = Caller(agent="bot")
    tools = [gate.describe("s", {"name": name}) for name in ("read", "write", "admin", "wipe")]

    def listed() -> list[str]:
        return [t.name for t, seen in zip(tools, gate.visible(caller, tools), strict=True) if seen]

    def callable_() -> list[str]:
        return [t.name for t in tools if gate.check(caller, t, {}).allowed]

    assert listed() == ["read", "write", "admin"]
    assert not gate.check(caller, tools[3], {}).allowed
    assert not gate.check(caller, tools[3], {}).allowed  # the second denial demotes
    assert listed() == callable_() == ["read"]
    proctor.runtime.lift_demotion("bot")  # an admin set the tier again
    assert listed() == callable_() == ["read", "write", "admin"]


WIRE_POLICY = """\
name: tiered
rules:
  - {id: secret, action: "call:raw/secret", effect: allow}
  - {id: touch, action: "call:raw/touch", effect: allow, applies_to: {min_tier: verified}}
  - {id: no-slow, action: "call:raw/slow_secret", effect: deny}
tiers:
  - id: noisy
    demote: {to: unverified, when_denials: 2, window: 1h}
"""


def _listed(wire: Wire, request_id: int) -> set[str]:
    answer = wire.answer({"jsonrpc": "2.0", "id": request_id, "method": "tools/list"})
    return {tool["name"] for tool in answer["result"]["tools"]}


def _allowed(wire: Wire, request_id: int, name: str, arguments: dict[str, Any]) -> bool:
    call = {"name": name, "arguments": arguments}
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": call}
    return wire.answer(message)["result"].get("isError") is not True


@pytest.mark.parametrize("front", ["stdio", "http"])
def test_over_the_wire_tools_list_and_tools_call_agree_for_a_demoted_agent(
    front: str, workdir: Path
) -> None:
    """desk-bot (verified) is demoted by two denials; its next list hides what it may no
    longer call, and every listed tool, and only those, is allowed."""
    (workdir / "policy.yaml").write_text(WIRE_POLICY)
    touched = workdir / "touched"
    arguments = {
        "secret": {},
        "wait_secret": {},
        "slow_secret": {},
        "touch": {"path": str(touched)},
    }
    wire = open_wire(front, workdir, "raw")
    try:
        assert _listed(wire, 1) == {"secret", "touch"}
        assert not _allowed(wire, 2, "slow_secret", {})
        assert not _allowed(wire, 3, "slow_secret", {})  # the second denial demotes
        listed = _listed(wire, 4)
        allowed = {
            name
            for n, (name, args) in enumerate(arguments.items())
            if _allowed(wire, 10 + n, name, args)
        }
    finally:
        wire.close()
    assert listed == allowed == {"secret"}
    assert not touched.exists()  # the call it no longer sees never reached the server
