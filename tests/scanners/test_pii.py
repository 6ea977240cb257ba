"""PII details beyond the data cases: issuers, context words, overlaps, no crash on any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.scanners import Direction, PiiScanner
from proctor.scanners.pii import card_issuer


@pytest.mark.parametrize(
    ("number", "issuer"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
        ("1234567812345670", None),
        ("37828224631000", None),  # amex prefix, wrong length
    ],
)
def test_card_issuer(number: str, issuer: str | None) -> None:
    assert card_issuer(number) == issuer


def _score(text: str, kind: str) -> float:
    return max(f.score for f in PiiScanner().scan(text, Direction.INPUT) if f.type == kind)


def test_context_words_raise_and_lower_scores() -> None:
    plain = _score("x 4111 1111 1111 1111", "pii.payment_card")
    assert _score("credit card 4111 1111 1111 1111", "pii.payment_card") > plain
    assert _score("order number 4111 1111 1111 1111", "pii.payment_card") < plain


def test_a_card_is_not_also_a_phone() -> None:
    types = [f.type for f in PiiScanner().scan("4111 1111 1111 1111", Direction.INPUT)]
    assert types == ["pii.payment_card"]


def test_details_name_the_validator_not_the_value() -> None:
    (finding,) = PiiScanner().scan("IBAN DE89370400440532013000", Direction.INPUT)
    assert "mod-97" in finding.detail
    assert "370400" not in finding.detail


@given(st.text(alphabet=st.sampled_from("0123456789 -+().@:/aZ"), max_size=120))
def test_never_raises_and_spans_stay_inside(text: str) -> None:
    for finding in PiiScanner().scan(text, Direction.INPUT):
        assert 0 <= finding.start < finding.end <= len(text)
