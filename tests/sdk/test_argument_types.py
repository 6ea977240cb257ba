"""Issue 14, part 1 through the SDK: a deny rule holds whatever kind the amount arrives as."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from proctor import Proctor
from proctor.clock import ManualClock
from proctor.model import Agent, Tier

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
