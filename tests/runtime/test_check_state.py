"""The state of one check on its way through the stages."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from proctor.policy import load_policies
from proctor.runtime.call import CheckCall
from proctor.runtime.check_state import Check

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
PLAIN = 'name: p\nrules: [{id: all, action: "*", effect: allow}]\n'


def test_a_new_check_holds_every_field_and_fresh_containers() -> None:
    policies = load_policies(texts=[PLAIN])
    made = [Check(CheckCall("read:a"), policies, "d", NOW, NOW, None, None, 0, None) for _ in "ab"]
    for check in made:  # a slotted field left unset would raise when a stage reads it
        assert {item.name: getattr(check, item.name) for item in fields(Check)}
        assert (check.agent, check.request, check.scopes, check.charged) == (None, None, (), [])
    first, second = made
    assert first.args is not second.args
    assert first.context is not second.context
    assert first.taint is not second.taint
    assert first.charged is not second.charged
