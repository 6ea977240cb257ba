"""Tool calls as checks: actions, the annotations policy reads, and the identity."""

from __future__ import annotations

from proctor.mcp.gate import Caller, ToolGate
from proctor.sdk.client import Proctor, make_agent

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
