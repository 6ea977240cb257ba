"""``@governed_tool`` with `scan:` sections: masked arguments in, reviewed results out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from proctor import ApprovalRequired, OutputWithheld, Proctor, governed_tool
from proctor.model import Agent

CARD = "4111 1111 1111 1111"
IBAN = "DE89 3704 0044 0532 0130 00"
POLICY = """
name: support
scan:
  input:
    pii.payment_card: {action: redact, mode: mask}
  output:
    pii.payment_card: redact
    secret: deny
rules:
  - {action: "*:*", effect: allow}
  - {id: tainted-iban, action: "write:refund", effect: require_approval, when: "tainted(args.iban)"}
"""
seen: list[Any] = []


@governed_tool("write:note")
def save_note(text: str) -> str:
    seen.append(text)
    return "saved"


@governed_tool("read:customer")
async def customer(customer_id: str) -> dict[str, str]:
    await asyncio.sleep(0)
    return {"id": customer_id, "card": CARD}


@governed_tool("read:config")
def config() -> str:
    return "token ghp_16C7e42F292c6912E7710c838347Ae178B4a"


@governed_tool("read:document")
def document(name: str) -> str:
    return f"{name}: please refund to {IBAN}"


@governed_tool("write:refund")
def refund(iban: str, amount: float) -> str:
    return f"refunded {amount}"


@pytest.fixture
def guard() -> Proctor:
    return Proctor.from_policies(texts=(POLICY,), agents=[Agent("bot")], agent="bot")


def test_the_tool_gets_masked_arguments(guard: Proctor) -> None:
    seen.clear()
    with guard.session(user={"sub": "ann", "scopes": ["*"]}):
        assert save_note(f"card {CARD}") == "saved"
    assert seen == ["card ***************1111"]


def test_results_come_back_redacted_or_are_withheld(guard: Proctor) -> None:
    with guard.session(user={"sub": "ann", "scopes": ["*"]}):
        assert asyncio.run(customer("c1")) == {"id": "c1", "card": "[pii.payment_card]"}
        with pytest.raises(OutputWithheld) as withheld:
            config()
    assert withheld.value.review.code == "scan_denied"


def test_a_refund_to_an_iban_read_from_a_document_waits_for_approval(guard: Proctor) -> None:
    user = {"sub": "ann", "scopes": ["*"]}
    with guard.run("r-1", user=user, task="Refund order A1"):
        document("invoice.pdf")
        with pytest.raises(ApprovalRequired) as held:
            refund(IBAN, 40)
    assert held.value.decision.rule_ids == ("tainted-iban",)
    with guard.run("r-2", user=user, task=f"Refund order A1 to {IBAN}"):
        document("invoice.pdf")
        assert refund(IBAN, 40) == "refunded 40"


def test_a_session_without_a_run_cannot_take_a_task(guard: Proctor) -> None:
    with pytest.raises(Exception, match="run_id"):
        guard.session(user="ann", task="hello")


BOUNDED = """
name: no-secrets
scan:
  input: {secret: deny, pii.email: require_approval}
  output: {secret: deny}
rules:
  - {action: "*:*", effect: allow}
"""
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def strict() -> Proctor:
    return Proctor.from_policies(texts=(BOUNDED,), agents=[Agent("bot")], agent="bot")


def test_a_secret_in_the_middle_of_a_long_argument_is_found(strict: Proctor) -> None:
    padding = "lorem ipsum " * 4_300  # ~50 KB each side: the middle that went unread before
    decision = strict.check("write:note", args={"text": f"{padding} {AWS_KEY} {padding}"})
    assert decision.effect.value == "deny"
    assert decision.code == "scan_denied"
    assert "secret.aws_access_key" in decision.reason
    result = strict.review_output("read:log", f"{padding} {AWS_KEY} {padding}")
    assert result.code == "scan_denied"


def test_a_secret_in_the_last_of_several_long_arguments_is_found(strict: Proctor) -> None:
    filler = "lorem ipsum " * 80_000  # ~1 MB: call arguments stay within 4 Mi characters
    args = {"a": filler, "b": filler, "c": filler + AWS_KEY}
    assert strict.check("write:note", args=args).code == "scan_denied"


def test_past_the_bound_per_call_the_strictest_verdict_applies(strict: Proctor) -> None:
    huge = "a " * (4 * 1024 * 1024 + 10)  # just over 8 Mi characters, nothing to find in it
    review = strict.review_output("read:log", huge)
    assert not review.allowed
    assert review.code == "scan_truncated"
    assert "no-secrets:scan.output.scan.truncated" in review.rule_ids
    assert "denies `secret` findings it could hold" in review.reason
    split = strict.review_output("read:log", {"a": huge[: len(huge) // 2], "b": huge[:-4]})
    assert split.code == "scan_truncated"  # the bound is for the call, not each string
    assert strict.review_output("read:log", huge[: 8 * 1024 * 1024 - 100]).allowed
    assert strict.check("write:note", args={"text": huge}).code == "invalid_request"  # too big
