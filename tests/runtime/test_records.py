"""``audit_event``: the shape of every record but a decision; ``Runtime.record`` appends one."""

from __future__ import annotations

from datetime import UTC, datetime

from proctor.clock import ManualClock
from proctor.identity.registry import AgentRegistry
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.runtime import build_runtime
from proctor.runtime.records import audit_event

AT = datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC)
BOT = Agent("bot", "support", Tier.VERIFIED, frozenset({"night", "eu"}))


def test_the_agent_and_user_as_values_views_or_ids() -> None:
    registered = audit_event(
        "run", "e1", AT, action="run:start", effect="start", reason="r", agent=BOT, user="alice"
    )
    assert registered.agent == {
        "id": "bot",
        "role": "support",
        "tier": "verified",
        "tags": ["eu", "night"],
    }
    assert registered.user == {"sub": "alice", "claims": {}}
    assert (registered.ts, registered.code, registered.args, registered.args_digest) == (
        "2026-11-24T10:00:00.123456Z",
        "run",  # the code defaults to the kind
        {},
        "",  # no arguments, no digest
    )
    named = audit_event(
        "sign_in", "e2", AT, action="ui:sign_in", effect="deny", reason="r", agent=None,
        user=User("sam", (), {"roles": ["ops"]}), code="sign_in_failed", args={},
    )  # fmt: skip
    assert named.agent == {"id": None, "role": None, "tier": None, "tags": []}
    assert named.user == {"sub": "sam", "claims": {"roles": ["ops"]}}
    assert named.code == "sign_in_failed"
    assert named.args_digest.startswith("sha256:")
    viewed = audit_event(
        "task", "e3", AT, action="run:task", effect="allow", reason="r", agent={"id": "x"}
    )
    assert viewed.agent == {"id": "x"}


def test_runtime_record_names_a_registered_agent_by_its_view() -> None:
    runtime = build_runtime(
        policy_texts=["name: p\nrules: []\n"],
        registry=AgentRegistry({"bot": BOT}),
        clock=ManualClock(AT),
    )
    try:
        first = runtime.record(
            "run", action="run:start", effect="start", reason="r", agent="bot", user=None, wait=True
        )
        runtime.record(
            "run", action="run:end", effect="end", reason="r", agent="ghost", user="al", wait=True
        )
        started, ended = runtime.audit.tail(2)
    finally:
        runtime.close()
    assert started["decision_id"] == first
    assert started["agent"]["tier"] == "verified"
    assert ended["agent"] == {"id": "ghost", "role": None, "tier": None, "tags": []}
    assert ended["user"] == {"sub": "al", "claims": {}}


def test_record_times_are_utc_with_microseconds_and_a_z_from_any_zone() -> None:
    from datetime import timedelta, timezone

    from proctor.runtime.records import iso

    assert iso(AT) == "2026-11-24T10:00:00.123456Z"
    assert iso(AT.replace(microsecond=0)) == "2026-11-24T10:00:00.000000Z"
    paris = AT.astimezone(timezone(timedelta(hours=1)))
    assert iso(paris) == "2026-11-24T10:00:00.123456Z"


def test_iso_agrees_with_isoformat_across_the_calendar() -> None:
    import random
    from datetime import timedelta

    from proctor.runtime.records import _SECONDS, _SECONDS_LIMIT, iso

    rng = random.Random(7)
    first = datetime(1, 1, 1, tzinfo=UTC)
    span = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - first) // timedelta(
        microseconds=1
    )
    moments = [first + timedelta(microseconds=rng.randrange(span + 1)) for _ in range(5000)]
    moments += [first, first + timedelta(microseconds=span)]
    moments += [AT + timedelta(microseconds=step) for step in range(-3, 3_000_000, 99_991)]
    for moment in moments:  # past the cache's bound too: it starts over, answers the same
        assert iso(moment) == moment.isoformat(timespec="microseconds")[:-6] + "Z"
    assert len(_SECONDS) <= _SECONDS_LIMIT


def test_a_decision_record_is_the_event_built_field_by_field() -> None:
    from dataclasses import fields

    from proctor.model.audit_event import AuditEvent
    from proctor.model.decision import Decision, Diagnostic, Effect, ShadowResult
    from proctor.model.request import RunState
    from proctor.runtime.records import decision_event

    decision = Decision(
        Effect.REQUIRE_APPROVAL,
        "held",
        ("r1",),
        "d1",
        ("read:*",),
        diagnostics=(Diagnostic("missing_attribute", "m", "r1"),),
        shadow=ShadowResult(Effect.DENY, ("r2",), "would deny"),
        code="approval_pending",
    )
    user = User("sam", (), {"tenant": "t1"})
    event = decision_event(
        decision, AT, AT, "read:a", BOT, "bot", user, {"a": 1}, "res", RunState("run-1"),
        "trace", 12_346, None, "sha256:p",
    )  # fmt: skip
    built = AuditEvent(
        kind="decision",
        decision_id="d1",
        ts="2026-11-24T10:00:00.123456Z",
        trace_id="trace",
        user={"sub": "sam", "claims": {"tenant": "t1"}},
        agent={"id": "bot", "role": "support", "tier": "verified", "tags": ["eu", "night"]},
        run_id="run-1",
        action="read:a",
        resource="res",
        args={"a": 1},
        args_digest=event.args_digest,
        effect="require_approval",
        rule_ids=("r1",),
        reason="held",
        code="approval_pending",
        effective_scopes=("read:*",),
        diagnostics=({"code": "missing_attribute", "message": "m", "rule_id": "r1"},),
        shadow={"effect": "deny", "rule_ids": ["r2"], "reason": "would deny"},
        latency_us=12.346,
        extra={"evaluated_at": "2026-11-24T10:00:00.123456Z", "policy_digest": "sha256:p"},
    )
    assert event == built
    assert list(vars(event)) == [item.name for item in fields(AuditEvent)]  # the init's order
    assert type(event.effect) is str


def test_a_records_latency_is_microseconds_rounded_to_the_nanosecond() -> None:
    import random

    from proctor.model.decision import Decision, Effect
    from proctor.runtime.records import decision_event

    decision = Decision(Effect.ALLOW, "ok", decision_id="d")
    rng = random.Random(3)
    spans = [0, 1, 499, 500, 999, 1000, 1500, 10**9 + 5, 2**53 - 1]
    spans += [rng.randrange(10**12) for _ in range(20_000)]
    for span in spans:  # what `round(µs, 3)` of the same span in µs gives
        event = decision_event(decision, AT, None, "a", BOT, None, None, {}, None, None, None, span)
        assert event.latency_us == round(span / 1000, 3) == round(span / 1e3, 3)
        assert len(repr(event.latency_us).partition(".")[2]) <= 3
