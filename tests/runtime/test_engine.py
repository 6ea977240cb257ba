"""The runtime fails closed and records every decision it returns."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor.clock import DecisionIds, ManualClock
from proctor.errors import ProctorError
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model import Agent, Tier
from proctor.model.request import RunState
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store

POLICY = 'name: p\nrules:\n  - {action: "*", effect: allow}\n'
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


def _runtime(audit: str = ":memory:") -> Runtime:
    registry = AgentRegistry(
        {"bot": Agent("bot", "r", Tier.VERIFIED)}, {"r": ScopeSet.parse(["*"])}
    )
    return Runtime(
        policies=load_policies(texts=[POLICY]),
        registry=registry,
        audit=open_audit_store(audit),
        clock=ManualClock(NOW),
    )


def test_a_dead_audit_store_turns_allow_into_deny(tmp_path: Path) -> None:
    runtime = _runtime(str(tmp_path / "a.db"))
    assert runtime.check("read:x", agent="bot").allowed
    runtime.audit.close()
    decision = runtime.check("read:x", agent="bot")
    assert not decision.allowed
    assert decision.code == "audit_unavailable"


def test_every_returned_decision_has_a_record(tmp_path: Path) -> None:
    runtime = _runtime(str(tmp_path / "a.db"))
    ids = [runtime.check("read:x", agent="bot", args={"n": n}).decision_id for n in range(50)]
    ids.append(runtime.check("read:x", agent="ghost").decision_id)
    runtime.close()
    reopened = open_audit_store(str(tmp_path / "a.db"))
    try:
        assert all(reopened.get(decision_id) is not None for decision_id in ids)
        assert reopened.get(ids[-1])["code"] == "unknown_agent"
    finally:
        reopened.close()


def test_concurrent_checks_keep_one_intact_chain(tmp_path: Path) -> None:
    runtime = _runtime(str(tmp_path / "a.db"))

    def work() -> None:
        for n in range(300):
            runtime.check("read:x", agent="bot", args={"n": n})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runtime.audit.flush()
    assert runtime.audit.count() == 1200
    assert runtime.audit.verify().ok
    runtime.close()


def test_unserializable_arguments_are_recorded_as_text() -> None:
    runtime = _runtime()
    decision = runtime.check("read:x", agent="bot", args={"when": NOW, "items": {3, 1}})
    record = runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["args"]["items"] == [1, 3]
    assert "datetime" in record["args"]["when"]


def test_oversized_arguments_are_denied_and_recorded() -> None:
    runtime = _runtime()
    decision = runtime.check("read:x", agent="bot", args={"blob": "x" * 2_000_000})
    assert decision.code == "invalid_request"
    assert runtime.audit.get(decision.decision_id) is not None


def test_decision_ids_are_time_ordered_uuid7() -> None:
    clock = ManualClock(NOW)
    ids = DecisionIds(clock)
    first = ids()
    clock.advance(milliseconds=1)
    second = ids()
    third = ids()
    assert first < second < third
    assert first[14] == "7"


def test_arguments_json_cannot_carry_are_made_safe_not_raised() -> None:
    runtime = _runtime()
    decision = runtime.check("read:x", agent="bot", args={"big": 2**70, "text": "a\ud800b"})
    assert decision.allowed
    record = runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["args"] == {"big": str(2**70), "text": "a?b"}


def test_a_call_in_another_agent_s_or_user_s_run_is_denied_and_recorded() -> None:
    runtime = _runtime()
    runtime.replace_registry(
        AgentRegistry(
            {"bot": Agent("bot", "r", Tier.VERIFIED), "evil": Agent("evil", "r", Tier.VERIFIED)},
            {"r": ScopeSet.parse(["*"])},
        )
    )
    alice, bob = {"sub": "alice", "scopes": ["*"]}, {"sub": "bob", "scopes": ["*"]}
    assert runtime.check("read:a", agent="bot", user=alice, run=RunState("r")).allowed
    for agent, user in (("evil", alice), ("bot", bob), ("bot", None)):
        refused = runtime.check("read:a", agent=agent, user=user, run=RunState("r"))
        assert refused.code == "run_not_owned", (agent, user)
        assert runtime.audit.tail(1)[0]["code"] == "run_not_owned"
    review = runtime.review_output("read:a", "x", agent="evil", user=alice, run=RunState("r"))
    assert review.code == "run_not_owned"
    assert runtime.check("read:a", agent="bot", user=alice, run=RunState("r")).allowed
    runtime.close()


def test_a_task_is_recorded_before_it_counts() -> None:
    runtime = _runtime()
    runtime.remember_task("r", {"iban": "DE89 3704 0044 0532 0130 00"})
    record = runtime.audit.tail(1)[0]
    assert record["kind"] == "task"
    assert record["run_id"] == "r"
    assert record["extra"]["credential"] == {"kind": "in_process"}
    assert "DE89" not in str(record)
    other = "DE44 5001 0517 5407 3249 31"
    runtime.review_output("read:doc", f"pay {other}", agent="bot", run=RunState("r2"))
    assert runtime.content.taint("r2", {"iban": other})
    runtime.audit.close()
    with pytest.raises(ProctorError):
        runtime.remember_task("r2", other)  # unrecorded: not the user's
    assert runtime.content.taint("r2", {"iban": other})


def test_a_value_in_the_middle_of_a_long_tool_output_is_tainted() -> None:
    # an attacker's IBAN hidden half a megabyte into a tool's result is remembered as
    # untrusted like one at its start: a later call that carries it is tainted
    runtime = _runtime()
    iban = "DE44 5001 0517 5407 3249 31"
    filler = "quarterly figures 1.5 up, 2024-03-01 a/b " * 12_000
    output = filler + f" wire to {iban} today " + filler
    runtime.review_output("read:doc", output, agent="bot", run=RunState("long"))
    assert runtime.content.taint("long", {"iban": iban})
    runtime.close()


def test_the_runtime_holds_no_public_mutable_attribute() -> None:
    # the edges read the parts and change them only through methods (replace_policies,
    # close_with...): no list, set or dict of the runtime's can be patched from outside
    runtime = _runtime()
    public = {name: value for name, value in vars(runtime).items() if not name.startswith("_")}
    assert not [name for name, value in public.items() if isinstance(value, list | set | dict)]
    calls: list[str] = []
    runtime.close_with(lambda: calls.append("stopped"))
    runtime.close()
    assert calls == ["stopped"]


def test_an_invalid_action_is_denied_every_time_it_is_asked() -> None:
    runtime = _runtime()
    for _ in range(2):
        decision = runtime.check("bad action!", agent="bot")
        assert decision.effect.value == "deny"
        assert decision.code == "invalid_request"
    assert runtime.check("read:doc", agent="bot").allowed
    runtime.close()
