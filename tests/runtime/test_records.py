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
