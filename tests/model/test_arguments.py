"""Arguments for the record (JSON-safe) and for evaluation (exact numbers kept)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from proctor.model.arguments import (
    MAX_DEPTH,
    MAX_ITEMS,
    ArgumentsRejected,
    normalize_arguments,
    normalize_call_arguments,
)


def test_plain_arguments_need_no_second_copy() -> None:
    recorded, exact = normalize_call_arguments({"amount": 5, "to": ["a"], "x": {"y": 1.5}})
    assert recorded == {"amount": 5, "to": ["a"], "x": {"y": 1.5}}
    assert exact is None


def test_exact_numbers_are_text_in_the_record_and_numbers_to_evaluate() -> None:
    args = {"big": 2**60, "price": Decimal("10.50"), "share": Fraction(1, 3), "n": [2**70]}
    recorded, exact = normalize_call_arguments(args)
    assert recorded == {"big": str(2**60), "price": "10.50", "share": "1/3", "n": [str(2**70)]}
    assert exact == args
    assert normalize_arguments(args) == recorded


@pytest.mark.parametrize(
    "value",
    [2**9000, Decimal("NaN"), Decimal("Infinity"), Decimal("1e5000"), Fraction(2**9000, 3)],
    ids=["huge int", "nan", "infinity", "huge exponent", "huge fraction"],
)
def test_numbers_past_the_bounds_are_refused(value: object) -> None:
    with pytest.raises(ArgumentsRejected):
        normalize_call_arguments({"amount": value})


def test_lists_and_tuples_become_lists_with_their_items_made_safe() -> None:
    recorded = normalize_arguments(
        {"to": ("a", "b"), "mixed": [1, None, True, "x" * 300, 2.5, {"k": ("v",)}, {3, 1}]}
    )
    assert recorded == {
        "to": ["a", "b"],
        "mixed": [1, None, True, "x" * 300, 2.5, {"k": ["v"]}, [1, 3]],
    }


@pytest.mark.parametrize(
    "args",
    [
        {"many": ["a"] * (MAX_ITEMS + 1)},
        {"many": dict.fromkeys(map(str, range(MAX_ITEMS + 1)), 1)},
        dict.fromkeys(map(str, range(MAX_ITEMS + 1)), "v"),
        {"nested": [[["a"] * 4000] * 3]},
    ],
    ids=["long list", "wide mapping", "wide arguments", "spread over lists"],
)
def test_more_values_than_the_bound_are_refused(args: dict[str, object]) -> None:
    with pytest.raises(ArgumentsRejected, match="more than"):
        normalize_call_arguments(args)


def test_lists_nested_past_the_depth_bound_are_refused() -> None:
    deep: list[object] = ["x"]
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ArgumentsRejected, match="nested deeper"):
        normalize_call_arguments({"deep": deep})
