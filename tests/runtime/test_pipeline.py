"""The check's stages: an untimed check skips the stages that cannot act, and decides and
records exactly as a timed check that runs every stage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from proctor.clock import DecisionIds, ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model import Agent, Tier
from proctor.model.request import RunState
from proctor.policy import load_policies
from proctor.runtime import Runtime
from proctor.runtime.call import CheckCall
from proctor.runtime.pipeline import (
    DECIDING,
    SETTLING,
    _acting_stages,
    demotion,
    placement,
    run_owner,
    scan,
)
from proctor.storage import open_audit_store

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
PLAIN = 'name: p\nrules: [{id: all, action: "*", effect: allow}]\n'
TIERS = """
name: p
rules:
  - {id: reads, action: "read:*", effect: allow}
  - {id: no-delete, action: "delete:*", effect: deny}
tiers:
  - {id: noisy, demote: {to: unverified, when_denials: 2, window: 1h}}
"""
SCANNED = """
name: p
rules: [{id: all, action: "*", effect: allow}]
scan:
  input: {secret: deny}
"""
SECRET = "AKIAIOSFODNN7EXAMPLE"
# Calls that reach every stage that can act: refused by their placement, in runs (the
# second in another agent's), with a secret to find, denied into a demotion.
CALLS = [
    CheckCall("read:a", args={"region": "eu", "amount": 3}),
    CheckCall("read:a", refused=("notification_refused", "a tools/call must be a request")),
    CheckCall("read:a", run=RunState("r1")),
    CheckCall("read:a", agent="other", run=RunState("r1")),
    CheckCall("write:key", args={"key": SECRET}),
    CheckCall("delete:a"),
    CheckCall("delete:a"),
    CheckCall("delete:a"),
    CheckCall("read:a", agent="ghost"),
]


def _runtime(policy: str, observe: bool) -> Runtime:
    clock = ManualClock(NOW)
    runtime = Runtime(
        policies=load_policies(texts=[policy]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "r", Tier.TRUSTED), "other": Agent("other", "r", Tier.TRUSTED)},
            {"r": ScopeSet.parse(["*"])},
        ),
        audit=open_audit_store(":memory:"),
        clock=clock,
        ids=DecisionIds(clock, random=lambda size: bytes(size)),
        default_agent="bot",
    )
    if observe:
        runtime.observe_stages(lambda stage, seconds: None)
    return runtime


def _records(policy: str, observe: bool) -> list[dict[str, Any]]:
    runtime = _runtime(policy, observe)
    for call in CALLS:
        runtime.decide(call)
    records = runtime.audit.tail(len(CALLS) + 5)
    runtime.close()
    for record in records:  # the latency, and so the chain's hashes, differ
        for name in ("latency_us", "hash", "prev_hash"):
            record.pop(name)
    return records


def test_an_untimed_check_decides_and_records_as_a_timed_one() -> None:
    for policy in (PLAIN, TIERS, SCANNED):
        untimed, timed = _records(policy, False), _records(policy, True)
        assert untimed == timed
        codes = {record["code"] for record in untimed}
        assert {"notification_refused", "run_not_owned", "unknown_agent"} <= codes
    assert "tier_change" in {record["kind"] for record in _records(TIERS, False)}
    assert "scan_denied" in {record["code"] for record in _records(SCANNED, False)}


def _acting(policy: str, call: CheckCall) -> tuple[Any, ...]:
    policies = load_policies(texts=[policy])
    key = (id(policies), call.refused is None, call.run is None and call.token is None)
    return _acting_stages(policies, call, key)[1:]


def test_only_the_stages_a_call_can_meet_are_run() -> None:
    every_decider = tuple(stage for _, stage in DECIDING)
    every_settler = tuple(stage for _, stage in SETTLING)
    deciders, settlers = _acting(PLAIN, CheckCall("read:a"))
    assert not {placement, run_owner, scan} & set(deciders)
    assert demotion not in settlers
    assert deciders == tuple(s for s in every_decider if s not in (placement, run_owner, scan))
    for call in (
        CheckCall("read:a", run=RunState("r")),
        CheckCall("read:a", token="t"),  # a token may bind the call to a run
    ):
        deciders, _ = _acting(PLAIN, call)
        assert run_owner in deciders  # the run's owner
        assert scan in deciders  # its taint
    assert placement in _acting(PLAIN, CheckCall("read:a", refused=("c", "r")))[0]
    assert scan in _acting(SCANNED, CheckCall("read:a"))[0]
    assert _acting(TIERS, CheckCall("read:a"))[1] == every_settler


def test_the_request_evaluated_holds_every_field_in_its_place() -> None:
    from proctor.model.request import CheckRequest

    runtime = _runtime(PLAIN, False)
    call = CheckCall("read:a", args={"n": 2**60}, resource="doc", context={"ip": "a"}, trace_id="t")
    check, _ = runtime.begin(call)
    runtime.close()
    request, agent = check.request, check.agent
    assert request is not None
    assert agent is not None
    assert type(request) is CheckRequest
    assert request == CheckRequest(
        action="read:a",
        agent=agent,
        now=NOW,
        user=None,
        args={"n": str(2**60)},
        resource="doc",
        context={"ip": "a"},
        run=None,
        effective_scopes=("*",),
        decision_id=check.decision_id,
        trace_id="t",
        findings=(),
        taint={},
        exact_args={"n": 2**60},
    )
    assert request.evaluated_args == {"n": 2**60}
