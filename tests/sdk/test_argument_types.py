"""Issue 14, part 1 through the SDK: a deny rule holds whatever kind the amount arrives as.

Arguments of hostile shapes get the answer the full walk of the arguments gives them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from proctor import Proctor
from proctor.clock import ManualClock
from proctor.model import Agent, Tier
from proctor.model.arguments import MAX_DEPTH, MAX_ITEMS

POLICY = r"""
name: transfers
rules:
  - {id: big-transfer, action: "write:transfer", effect: deny, when: "args.amount > 10000"}
  - {id: evil-recipient, action: "write:transfer", effect: deny,
     when: 'args.to matches "@evil\\.com$"'}
  - {id: review, action: "write:transfer", effect: require_approval,
     when: "args.amount > 1000 and args.amount <= 10000"}
  - {id: payments, action: "write:*", effect: allow}
"""
OK_TO = "ann@shop.example"


@pytest.fixture
def guard() -> Iterator[Proctor]:
    clock = ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
    with Proctor.from_policies(
        texts=(POLICY,), agents=[Agent("bot", tier=Tier.VERIFIED)], clock=clock
    ) as instance:
        yield instance


def _transfer(guard: Proctor, amount: Any, to: Any = OK_TO) -> Any:
    return guard.check("write:transfer", agent="bot", args={"amount": amount, "to": to})


def test_a_small_transfer_is_allowed(guard: Proctor) -> None:
    assert _transfer(guard, 50).allowed
    assert _transfer(guard, Decimal("50.00")).allowed
    assert _transfer(guard, Fraction(1, 3)).allowed


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (50000, "rule"),
        (Decimal("50000"), "rule"),  # was the text "Decimal('50000')": no rule matched
        (Decimal("10000.01"), "rule"),  # exact: not rounded down to 10000
        (Fraction(100000001, 10000), "rule"),
        (2**60, "rule"),  # was the text "1152921504606846976"
        (50000.0, "rule"),
        ("50000", "condition_error"),
        ([50000], "condition_error"),
        (True, "condition_error"),
        ({"value": 50000}, "condition_error"),
        (None, "condition_error"),
    ],
    ids=repr,
)
def test_a_large_amount_of_any_kind_is_denied(guard: Proctor, amount: Any, code: str) -> None:
    decision = _transfer(guard, amount)
    assert not decision.allowed
    assert decision.effect.value == "deny"
    assert decision.code == code
    assert decision.rule_ids == ("big-transfer",)
    if code == "condition_error":
        assert {d.rule_id for d in decision.diagnostics} == {"big-transfer", "review"}


def test_an_exact_amount_on_the_line_is_not_over_it(guard: Proctor) -> None:
    assert _transfer(guard, Decimal("10000.00")).effect.value == "require_approval"


@pytest.mark.parametrize(
    "to",
    [
        [OK_TO, "mallory@evil.com"],
        "x" * (64 * 1024 + 1) + "@evil.com",  # longer than what `matches` reads
        {"address": "mallory@evil.com"},
    ],
    ids=["list", "long", "map"],
)
def test_a_recipient_the_regex_cannot_read_is_denied(guard: Proctor, to: Any) -> None:
    decision = _transfer(guard, 5, to)
    assert decision.effect.value == "deny"
    assert decision.code == "condition_error"
    assert decision.rule_ids == ("evil-recipient",)


def test_the_record_keeps_exact_numbers_as_text(guard: Proctor) -> None:
    decision = _transfer(guard, Decimal("50000.50"))
    record = guard.runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["args"]["amount"] == "50000.50"
    big = _transfer(guard, 2**60)
    record = guard.runtime.audit.get(big.decision_id)
    assert record is not None
    assert record["args"]["amount"] == str(2**60)


def test_numbers_too_large_to_compare_safely_are_refused(guard: Proctor) -> None:
    assert _transfer(guard, 10**3000).code == "invalid_request"
    assert _transfer(guard, Decimal("1e999999")).code == "invalid_request"
    assert _transfer(guard, Decimal("NaN")).code == "invalid_request"


# -- hostile shapes: the check's quick copy of plain values and short lists of them hands
# every unusual one to the full walk of the arguments, which fails closed


def _deep(levels: int) -> dict[str, Any]:
    """A list of one name in a mapping ``levels`` deep (the arguments are level 1)."""
    return functools.reduce(lambda inner, _: {"a": inner}, range(levels - 1), {"l": ["x"]})


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"l": [1.5, float("nan")]}, "arguments cannot hold NaN or infinite numbers"),
        ({"l": ("a", float("-inf"))}, "arguments cannot hold NaN or infinite numbers"),
        ({"f": float("inf")}, "arguments cannot hold NaN or infinite numbers"),
        ({"l": [2**9000]}, "an argument number has more than 8192 bits"),
        ({"l": ["a"] * 5000, "m": ["b"] * 5001}, f"arguments hold more than {MAX_ITEMS} values"),
        (
            {"big": ["a" * 1_048_576] * 4, "l": ["abc"]},
            "argument text is longer than 1048576 characters",
        ),
        (_deep(MAX_DEPTH), f"arguments are nested deeper than {MAX_DEPTH} levels"),
    ],
    ids=["nan", "infinity in a tuple", "infinity", "huge integer", "items", "text", "depth"],
)
def test_arguments_past_a_bound_are_denied_in_a_list_too(
    guard: Proctor, args: dict[str, Any], reason: str
) -> None:
    decision = guard.check("write:x", agent="bot", args=args)
    assert (decision.effect, decision.code) == ("deny", "invalid_request")
    assert decision.reason == f"invalid arguments: {reason}"
    assert guard.runtime.audit.tail(1)[0]["args"] == {}


@pytest.mark.parametrize(
    ("args", "recorded"),
    [
        ({"l": [2**53, 1]}, {"l": [str(2**53), 1]}),  # beyond 2**53: text in the record
        ({"l": ["x\ud800y"]}, {"l": ["x?y"]}),  # a lone surrogate cannot be stored as UTF-8
        ({1: ("a", None, True, 2.5)}, {"1": ["a", None, True, 2.5]}),
        ({"l": ["a"] * (MAX_ITEMS - 1)}, {"l": ["a"] * (MAX_ITEMS - 1)}),
        (_deep(MAX_DEPTH - 1), _deep(MAX_DEPTH - 1)),
    ],
    ids=["unsafe integer", "surrogate", "name and tuple", "items at the bound", "depth"],
)
def test_unusual_values_in_lists_are_recorded_as_the_full_walk_makes_them(
    guard: Proctor, args: dict[Any, Any], recorded: dict[str, Any]
) -> None:
    assert guard.check("write:x", agent="bot", args=args).allowed
    assert guard.runtime.audit.tail(1)[0]["args"] == recorded
