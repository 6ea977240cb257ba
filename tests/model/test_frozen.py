"""``built_at_once``: the dataclass's own ``__init__`` signature and behaviour, one setattr."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest

from proctor.model.audit_event import AuditEvent
from proctor.model.decision import Decision, Effect
from proctor.model.frozen import built_at_once


def _declared(name: str) -> type[Any]:
    """A fresh frozen dataclass with a default, a factory and a keyword-only field."""
    namespace = {
        "__annotations__": {"name": "str", "count": "int", "tags": "list[str]", "note": "str"},
        "count": 0,
        "tags": field(default_factory=list),
        "note": field(default="", kw_only=True),
    }
    return dataclass(frozen=True)(type(name, (), namespace))


_Plain = _declared("_Plain")
_Quick = built_at_once(_declared("_Quick"))


def test_it_builds_what_the_generated_init_builds() -> None:
    for args, kwargs in (
        (("a",), {}),
        (("a", 2), {"note": "n"}),
        ((), {"name": "a", "tags": ["x"]}),
    ):
        plain, quick = _Plain(*args, **kwargs), _Quick(*args, **kwargs)
        assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert _Quick("a").tags is not _Quick("a").tags  # a factory runs per instance
    with pytest.raises(TypeError):
        _Quick("a", 2, [], "n")  # keyword-only stays keyword-only
    with pytest.raises(TypeError):
        _Quick()


def test_decisions_and_records_stay_frozen_values() -> None:
    decision = Decision(Effect.ALLOW, "ok", ("r1",), code="rule")
    assert decision == Decision(Effect.ALLOW, "ok", ("r1",), code="rule")
    assert hash(decision) == hash(Decision(Effect.ALLOW, "ok", ("r1",), code="rule"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.reason = "changed"  # type: ignore[misc]
    assert dataclasses.replace(decision, effect=Effect.DENY).denied
    event = AuditEvent(
        kind="decision", decision_id="d", ts="t", agent={}, action="a", effect="allow", reason="r"
    )
    assert (event.args, event.extra, event.latency_us) == ({}, {}, None)
    assert dataclasses.replace(event, extra={"k": 1}).extra == {"k": 1}
    with pytest.raises(TypeError):
        AuditEvent("decision")  # type: ignore[misc]


def test_slotted_or_post_init_classes_are_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Slotted:
        name: str

    with pytest.raises(TypeError, match="Slotted"):
        built_at_once(Slotted)


def test_from_fields_builds_what_the_init_builds() -> None:
    from proctor.model.frozen import from_fields

    values = {"name": "a", "count": 2, "tags": ["x"], "note": "n"}
    quick = from_fields(_Quick, dict(values))
    assert quick == _Quick(**values)
    assert vars(quick) == vars(_Quick(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.name = "b"
