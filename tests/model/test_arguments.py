"""Arguments for the record (JSON-safe) and for evaluation (exact numbers kept)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.model import arguments
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


# -- the fast paths (flat leaves, short lists of them) answer as the full walk -----------

_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="ascii"), max_size=300),
    st.sampled_from(["\ud800", "é", "a" * 255, "a" * 256, 2**53 - 1, 2**53, -(2**53)]),
    st.decimals(allow_nan=True, places=2),
)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)


def _answer(args: Any) -> Any:
    try:
        return normalize_call_arguments(args)
    except ArgumentsRejected as exc:
        return ("rejected", str(exc))


def _walked(args: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The answer of the full walk alone: no list of leaves copied whole, every float walked."""
    with monkeypatch.context() as patch:
        patch.setattr(arguments, "_leaves", lambda items, budget: None)
        patch.setattr(arguments, "_MAX_FLOAT", -1.0)
        return _answer(args)


def _same(left: Any, right: Any) -> bool:
    return repr(left) == repr(right)  # NaN != NaN, and -0.0 == 0.0: compare the text


@given(args=st.dictionaries(st.text(max_size=6), _VALUE, max_size=6))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_fast_paths_answer_as_the_full_walk(
    args: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _same(_answer(args), _walked(args, monkeypatch))


def _nested(depth: int, leaf: Any) -> dict[str, Any]:
    """``leaf`` under key ``l`` of a mapping at ``depth`` (the arguments are depth 1)."""
    tree: dict[str, Any] = {"l": leaf}
    for _ in range(depth - 1):
        tree = {"a": tree}
    return tree


@pytest.mark.parametrize(
    "args",
    [
        {"l": [float("nan")]},
        {"l": (1.5, float("-inf"))},
        {"f": float("inf")},
        {"l": [2**53]},
        {"l": [2**9000]},
        {"l": ["x\ud800y", "é"]},
        {"l": ["a" * 255, "a" * 256]},
        {"l": ["a"] * MAX_ITEMS},
        {"l": ["a"] * (MAX_ITEMS - 1)},
        {"l": ["a"] * 5000, "m": ["b"] * 5000},
        {"big": ["a" * 1_000_000] * 4, "l": ["abc"]},
        {"big": "a" * 1_000_000, "b": "b" * 1_000_000, "c": "c" * 1_000_000, "l": ["abc"]},
        {"big": ["a" * 1_048_576] * 4, "l": ["abc" * 40]},
        {"l": [True, None, 0, -0.0, 1e308, ""]},
        _nested(MAX_DEPTH - 1, ["x"]),
        _nested(MAX_DEPTH, ["x"]),
        _nested(MAX_DEPTH + 1, ["x"]),
        _nested(MAX_DEPTH, 1.5),
    ],
    ids=[
        "nan in a list",
        "infinity in a tuple",
        "infinity",
        "unsafe integer in a list",
        "huge integer in a list",
        "surrogate in a list",
        "long text in a list",
        "items at the bound",
        "items below the bound",
        "items over the bound in two lists",
        "characters over the bound by a list",
        "characters at the bound and a list",
        "characters over the bound by a list's long item",
        "leaves of every kind",
        "list one level inside the depth bound",
        "list at the depth bound",
        "list past the depth bound",
        "float at the depth bound",
    ],
)
def test_hostile_shapes_get_the_full_walks_answer(
    args: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _same(_answer(args), _walked(args, monkeypatch))
