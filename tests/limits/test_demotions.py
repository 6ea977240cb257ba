"""Trust tiers that move by rule (`tiers:`): denials counted per window, demotion audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proctor.clock import ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.policy import PolicyLoadError, load_policies
from proctor.runtime import Runtime
from proctor.storage import open_audit_store
from proctor.storage.state import open_state_stores

RULES = """
name: support
rules:
  - {id: reads, action: "read:*", effect: allow}
  - {id: refunds, action: "write:refund", effect: allow, applies_to: {min_tier: verified}}
  - {id: no-deletes, action: "write:delete", effect: deny}
"""
TIERS = """
tiers:
  - id: noisy
    demote: {to: unverified, when_denials: 3, window: 1h}
"""
ALICE = User("alice", ("*",))
# 10:59:58 UTC: two seconds before a fixed one-hour window ends
START = datetime(2026, 11, 24, 10, 59, 58, tzinfo=UTC)


def _runtime(clock: ManualClock, text: str = RULES + TIERS, location: str | None = None) -> Runtime:
    return Runtime(
        policies=load_policies(texts=[text]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.TRUSTED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(location),
        state=open_state_stores(location),
        clock=clock,
    )


def _deny(runtime: Runtime, times: int) -> None:
    for _ in range(times):
        assert not runtime.check("write:delete", agent="bot", user=ALICE).allowed


def _tier_changes(runtime: Runtime) -> list[dict[str, object]]:
    return [r for r in runtime.audit.tail(500) if r["kind"] == "tier_change"]


def test_the_nth_denial_in_a_window_demotes_from_the_next_check() -> None:
    clock = ManualClock(START.replace(minute=10))
    runtime = _runtime(clock)
    assert runtime.check("write:refund", agent="bot", user=ALICE).allowed
    _deny(runtime, 2)
    assert runtime.check("write:refund", agent="bot", user=ALICE).allowed
    assert _tier_changes(runtime) == []
    _deny(runtime, 1)  # the third denial within the hour
    refused = runtime.check("write:refund", agent="bot", user=ALICE)
    assert not refused.allowed
    (change,) = _tier_changes(runtime)
    assert change["agent"]["tier"] == "unverified"  # type: ignore[index]
    assert change["action"] == "agent:demote"
    extra = change["extra"]
    assert extra["from"] == "trusted"  # type: ignore[index]
    assert extra["to"] == "unverified"  # type: ignore[index]
    assert extra["cause"] == {  # type: ignore[index]
        "rule_id": "support/noisy",
        "denials": 3,
        "window": "1h",
        "window_seconds": 3600,
        "window_start": "2026-11-24T10:00:00.000000Z",
    }
    assert "support/noisy" in str(change["reason"])
    _deny(runtime, 5)  # more denials in the same window demote nothing more
    assert len(_tier_changes(runtime)) == 1
    runtime.lift_demotion("bot")  # an admin set the tier (the gateway's set-tier route)
    assert runtime.check("write:refund", agent="bot", user=ALICE).allowed
    runtime.close()


def test_denials_on_either_side_of_a_window_boundary_do_not_add_up() -> None:
    clock = ManualClock(START)
    runtime = _runtime(clock)
    _deny(runtime, 2)  # 10:59:58, window 10:00-11:00
    clock.advance(seconds=2)  # 11:00:00: a new window
    _deny(runtime, 2)
    assert runtime.check("write:refund", agent="bot", user=ALICE).allowed
    assert _tier_changes(runtime) == []
    clock.advance(minutes=59, seconds=59)  # 11:59:59, still the same window
    _deny(runtime, 1)
    assert not runtime.check("write:refund", agent="bot", user=ALICE).allowed
    (change,) = _tier_changes(runtime)
    assert change["extra"]["cause"]["window_start"] == "2026-11-24T11:00:00.000000Z"  # type: ignore[index]
    runtime.close()


def test_a_demotion_is_shared_through_the_counter_store_once(tmp_path: Path) -> None:
    """Two runtimes on one state file: the denial that reaches the count demotes, once."""
    location = str(tmp_path / "proctor.db")
    clock = ManualClock(START.replace(minute=10))
    first, second = _runtime(clock, location=location), _runtime(clock, location=location)
    _deny(first, 2)
    _deny(second, 1)
    assert first.check("write:refund", agent="bot", user=ALICE).allowed  # not the one demoted
    assert not second.check("write:refund", agent="bot", user=ALICE).allowed
    _deny(first, 3)
    first.close()
    second.close()
    store = open_audit_store(location)
    try:
        changes = [r for r in store.tail(100) if r["kind"] == "tier_change"]
    finally:
        store.close()
    assert len(changes) == 1


def test_a_rule_never_promotes_and_a_lower_agent_only_counts() -> None:
    clock = ManualClock(START.replace(minute=10))
    text = RULES + TIERS.replace("unverified", "privileged")
    runtime = _runtime(clock, text)
    _deny(runtime, 3)
    assert _tier_changes(runtime) == []
    assert runtime.check("write:refund", agent="bot", user=ALICE).allowed
    runtime.close()


def test_audit_mode_tier_rules_demote_nothing() -> None:
    clock = ManualClock(START.replace(minute=10))
    shadow = "name: shadow\nmode: audit\nrules: []\n" + TIERS.replace("noisy", "shadowed")
    runtime = Runtime(
        policies=load_policies(texts=[RULES, shadow]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.TRUSTED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(None),
        clock=clock,
    )
    assert not runtime.policies.controls.has_tier_rules
    _deny(runtime, 3)
    assert _tier_changes(runtime) == []
    runtime.close()


def test_without_tier_rules_a_denial_touches_no_store() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> None:
            raise AssertionError(f"the store was used: {name}")

    untouchable = replace(open_state_stores(None), counters=Untouchable())  # type: ignore[arg-type]
    runtime = Runtime(
        policies=load_policies(texts=[RULES]),
        registry=AgentRegistry(
            {"bot": Agent("bot", "support", Tier.TRUSTED)}, {"support": ScopeSet.parse(["*"])}
        ),
        audit=open_audit_store(None),
        state=untouchable,
        clock=ManualClock(START),
    )
    _deny(runtime, 3)  # memory stores: nothing to close


def test_tier_rule_errors_are_located_and_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "name: p\n"
        "rules: [{action: 'read:*', effect: allow}]\n"
        "tiers:\n"
        "  - id: a\n"
        "    demote: {to: janitor, when_denials: 3, window: 1h}\n"
        "  - id: a\n"
        "    demote: {to: unverified, when_denials: 3, window: soon}\n"
    )
    with pytest.raises(PolicyLoadError) as caught:
        load_policies([path])
    found = {(e.code, e.location.line if e.location else None) for e in caught.value.errors}
    assert found == {
        ("policy_invalid_tier", 5),
        ("policy_duplicate_tier_rule_id", 6),
        ("policy_invalid_window", 7),
    }


def test_tier_rule_shape_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "name: p\n"
        "tiers:\n"
        "  - id: a\n"
        "    demote: {to: unverified, when_denials: 0, window: 1h, extra: 1}\n"
    )
    with pytest.raises(PolicyLoadError) as caught:
        load_policies([path])
    lines = {e.location.line for e in caught.value.errors if e.location}
    assert lines == {4}
    assert {e.code for e in caught.value.errors} >= {"policy_unknown_key"}
