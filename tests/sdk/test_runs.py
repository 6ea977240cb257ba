"""``with guard.run(...)``: a session bound to one run, started and ended in the audit."""

from __future__ import annotations

from datetime import UTC, datetime

from proctor.clock import ManualClock
from proctor.sdk import Proctor, make_agent, make_user

POLICY = """
name: p
rules: [{action: "read:*", effect: allow}]
runs: {max_tool_calls: 2}
"""


def _guard() -> Proctor:
    return Proctor.from_policies(
        texts=(POLICY,),
        agents=[make_agent("bot")],
        clock=ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC)),
    )


def test_a_run_is_started_ended_and_recorded() -> None:
    with _guard() as guard:
        with guard.run("task-9", user=make_user("alice", scopes=("*",))) as run:
            first = run.check("read:a")
            second = run.check("read:b")
            third = run.check("read:c")
        assert (first.allowed, second.allowed, third.code) == (True, True, "run_ceiling")
        after = guard.check("read:d", user=make_user("alice", scopes=("*",)))
        assert after.allowed  # outside the run
        records = guard.runtime.audit.tail(10)
        kinds = [(r["kind"], r["effect"], r["run_id"]) for r in records]
        assert kinds[0] == ("run", "start", "task-9")
        assert ("run", "end", "task-9") in kinds
        assert all(r["run_id"] == "task-9" for r in records[:5])
        stored = guard.runtime.state.runs.get("task-9")
        assert stored is not None
        assert stored.ended_at is not None


def test_calls_in_an_ended_run_are_denied() -> None:
    with _guard() as guard:
        with guard.run("task-10", user=make_user("alice", scopes=("*",))) as run:
            assert run.check("read:a").allowed
        assert run.check("read:b").code == "run_ended"
