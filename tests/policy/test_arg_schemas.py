"""Argument schemas: the type grammar, nested maps, located load errors, which policies check."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from proctor.model.decision import Decision
from proctor.model.request import Agent, CheckRequest
from proctor.policy import PolicyLoadError, load_policies

SCHEMA = """
name: typed
schemas:
  - action: ["write:transfer", "write:payout"]
    args:
      amount: number
      count: integer?
      to: "text | list[text]"
      tags: list?
      meta: "map | null?"
      flag: boolean?
      recipient: {iban: text, name: text?}
rules:
  - {action: "write:*", effect: allow}
"""
GOOD = {"amount": 5, "to": "a@b.c", "recipient": {"iban": "DE00"}}


def _decide(args: dict[str, Any], action: str = "write:transfer", text: str = SCHEMA) -> Decision:
    request = CheckRequest(
        action, Agent("bot", role="ops"), datetime(2026, 1, 1, tzinfo=UTC), args=args
    )
    return load_policies(texts=[text]).evaluate(request)


def test_arguments_that_fit_go_on_to_the_rules() -> None:
    assert _decide(GOOD).allowed
    assert _decide({**GOOD, "amount": Decimal("5.5"), "count": 3, "to": ["x", "y"]}).allowed
    assert _decide({**GOOD, "count": Fraction(6, 2), "meta": None, "flag": False}).allowed
    assert _decide({**GOOD, "unnamed": [1, 2]}).allowed  # arguments a schema does not name pass
    assert _decide({**GOOD, "amount": "5"}, action="write:other").allowed  # other actions


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"amount": "5"}, "`amount` must be a number, not text `5`"),
        ({"amount": True}, "`amount` must be a number, not boolean `true`"),
        ({"count": 2.5}, "`count` must be a whole number"),
        ({"to": ["a", 7]}, "`to[1]` must be text, not number `7`"),
        ({"to": {"a": 1}}, "`to` must be text or a list of text, not a map"),
        ({"recipient": {}}, "`recipient.iban` is missing"),
        ({"recipient": "DE00"}, "`recipient` must be a map"),
        ({"flag": "yes"}, "`flag` must be true or false"),
    ],
)
def test_a_call_that_does_not_fit_is_denied_naming_the_path(
    change: dict[str, Any], problem: str
) -> None:
    decision = _decide({**GOOD, **change})
    assert decision.code == "args_invalid"
    assert not decision.allowed
    assert problem in decision.reason
    assert [d.code for d in decision.diagnostics] == ["args_invalid"]


def test_a_required_argument_must_be_there() -> None:
    decision = _decide({"to": "a"}, action="write:payout")
    assert decision.code == "args_invalid"
    assert "`amount` is missing" in decision.reason


def test_audit_mode_and_other_agents_policies_do_not_check() -> None:
    audit = SCHEMA.replace("name: typed\n", "name: typed\nmode: audit\n")
    assert _decide(
        {"amount": "5"}, text=audit + "---\nname: open\nrules: [{action: '*', effect: allow}]\n"
    ).allowed
    other = SCHEMA.replace("name: typed\n", "name: typed\napplies_to: {roles: [finance]}\n")
    extra = "---\nname: open\nrules: [{action: '*', effect: allow}]\n"
    assert _decide({"amount": "5"}, text=other + extra).allowed


def test_a_bad_type_is_a_located_load_error() -> None:
    text = "name: p\nschemas:\n  - action: write:x\n    args: {amount: decimal, to: 'list[text'}\n"
    with pytest.raises(PolicyLoadError) as caught:
        load_policies(texts=[text])
    errors = caught.value.errors
    assert [e.code for e in errors] == ["policy_invalid_schema", "policy_invalid_schema"]
    assert errors[0].location is not None
    assert (errors[0].location.line, errors[0].location.column) == (4, 20)
    assert "`decimal` is not an argument type" in errors[0].message


def test_an_unknown_key_in_a_schema_gets_a_hint() -> None:
    with pytest.raises(PolicyLoadError) as caught:
        load_policies(texts=["name: p\nschemas: [{action: 'write:x', arg: {a: text}}]\n"])
    codes = {e.code for e in caught.value.errors}
    assert "policy_unknown_key" in codes
