"""The compiled value: its fields, keywords in any case, short-circuits, the clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.policy.expr import CompiledExpression, EvaluationError, compile_expression
from tests.policy.expr.requests import make_context

CTX = make_context({"agent": {"id": "bot", "tier": "trusted"}, "args": {"amount": 50, "ok": True}})


def test_a_compiled_expression_records_source_size_and_paths() -> None:
    compiled = compile_expression("time.hour >= 9 AND args.amount <= 100 and args['a-b'] == 1")
    assert isinstance(compiled, CompiledExpression)
    assert compiled.source == "time.hour >= 9 AND args.amount <= 100 and args['a-b'] == 1"
    assert compiled.paths == frozenset({"time.hour", "args.amount", 'args["a-b"]'})
    assert compiled.node_count == 14


def test_paths_stop_at_a_computed_index_and_include_the_index() -> None:
    compiled = compile_expression("args.items[args.i].sku == 'a' and args.list[0] > 1")
    assert compiled.paths == frozenset({"args.items", "args.i", "args.list[0]"})


def test_constants_are_folded() -> None:
    compiled = compile_expression('1 + 2 * 3 == 7 and duration("1h") == 3600')
    assert compiled.paths == frozenset()
    assert compiled.evaluate(CTX) is True


def test_a_compiled_expression_is_frozen() -> None:
    compiled = compile_expression("true")
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.source = "false"  # type: ignore[misc]


@pytest.mark.parametrize(
    "source",
    [
        "true and true",
        "true AND true",
        "true And true",
        "false or true",
        "false OR true",
        "false Or true",
        "not false",
        "NOT false",
        "Not false",
        "'a' IN ['a']",
        "'b' Not In ['a']",
        "[1] CONTAINS 1",
        "'abc' MATCHES 'b'",
        "'abc' StartsWith 'a'",
        "'abc' ENDSWITH 'c'",
        "True == TRUE",
        "NuLL == null",
    ],
)
def test_keywords_are_case_insensitive(source: str) -> None:
    assert compile_expression(source).test(CTX) is True


def test_keywords_after_a_dot_are_field_names() -> None:
    ctx = make_context({"args": {"in": 1, "and": 2, "not": 3}})
    assert compile_expression("args.in + args.and + args.not").evaluate(ctx) == 6


@pytest.mark.parametrize(
    "source",
    [
        "false AND args.missing",
        "false and args.missing > 1",
        "args.ok == false and args.missing",
        "not args.ok and args.missing.deeper[0]",
        "true OR args.missing",
        "args.ok or args.missing",
        "args.ok || len(args.missing) > 1",
    ],
)
def test_and_or_short_circuit(source: str) -> None:
    expected = "or" in source.lower() or "||" in source
    assert compile_expression(source).test(CTX) is expected


def test_the_unevaluated_side_is_evaluated_when_needed() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_expression("args.ok and args.missing").test(CTX)
    assert caught.value.code == "missing_attribute"
    assert caught.value.message == "`args.missing` is missing"
    assert caught.value.details == {"path": "args.missing"}


def test_a_missing_nested_path_names_the_missing_step() -> None:
    ctx = make_context({"args": {"order": {"lines": []}}})
    with pytest.raises(EvaluationError) as caught:
        compile_expression("args.order.lines[0].sku").evaluate(ctx)
    assert caught.value.message == "`args.order.lines[0]` is missing"


def test_runtime_type_errors_name_the_values() -> None:
    ctx = make_context({"args": {"s": "abc"}})
    with pytest.raises(EvaluationError) as caught:
        compile_expression("args.s > 5").test(ctx)
    assert caught.value.code == "type_error"
    assert caught.value.message == "cannot compare text `abc` with number `5`"


def test_division_by_zero_is_a_clear_type_error() -> None:
    ctx = make_context({"args": {"n": 1, "d": 0}})
    with pytest.raises(EvaluationError) as caught:
        compile_expression("args.n / args.d > 1").test(ctx)
    assert caught.value.code == "type_error"
    assert "division by zero" in caught.value.message


def test_test_requires_a_boolean() -> None:
    compiled = compile_expression("args.amount")
    assert compiled.evaluate(CTX) == 50
    with pytest.raises(EvaluationError) as caught:
        compiled.test(CTX)
    assert caught.value.code == "type_error"
    assert caught.value.message == "a condition must be true or false, not number `50`"


def test_now_reads_the_request_clock_not_the_system_clock() -> None:
    early = make_context({"now": "2001-01-01T00:00:00+00:00"})
    late = make_context({"now": "2030-06-01T12:00:00+02:00"})
    compiled = compile_expression("now()")
    assert compiled.evaluate(early) == 978307200.0
    assert compiled.evaluate(late) == datetime(2030, 6, 1, 10, tzinfo=UTC).timestamp()


def test_naive_request_times_are_utc() -> None:
    assert compile_expression("now()").evaluate(make_context({"now": "2001-01-01T00:00:00"})) == (
        978307200.0
    )


def test_the_fast_regex_search_agrees_with_the_public_one() -> None:
    import re2

    from proctor.policy.expr.regex import _searcher

    for pattern, texts in {
        r".*@example\.com$": ["a@example.com", "a@example.com\n", "a@exampleXcom", ""],
        r"^é+\d$": ["éé1", "e1", "é"],
        r"(?i)vip": ["VIP", "vap"],
        r"": ["", "x"],
    }.items():
        regex = re2.compile(pattern)
        fast = _searcher(regex)
        for text in texts:
            assert fast(text) is (regex.search(text) is not None), (pattern, text)


def test_the_fast_regex_search_is_the_one_in_use() -> None:
    # Fails when the binding changes, so the 5x slower fallback is never silently used.
    import re2

    from proctor.policy.expr.regex import _searcher

    assert _searcher(re2.compile("a")).__name__ == "search_raw"


@given(
    st.one_of(
        st.integers(-5, 30),
        st.floats(allow_nan=True),
        st.booleans(),
        st.none(),
        st.text(max_size=2),
        st.lists(st.integers(), max_size=2),
    ),
    st.sampled_from(
        [
            "args.x >= 9 AND args.x <= 17",
            "9 <= args.x AND 17 > args.x",
            "args.x > 1.5 AND args.x < 2",
            "time.hour >= 9 AND time.hour <= 17",
        ]
    ),
    st.booleans(),
)
def test_a_window_on_one_path_decides_as_its_two_comparisons(
    value: Any, text: str, present: bool
) -> None:
    # one read and two comparisons, with the same errors as the comparisons alone
    ctx = make_context({"args": {"x": value} if present else {}, "now": "2026-03-02T09:30:00Z"})
    window = compile_expression(text)
    assert "within" in window.test.__qualname__
    first, second = (compile_expression(part) for part in text.split(" AND "))
    assert _outcome(window.test, ctx) == _outcome(lambda c: first.test(c) and second.test(c), ctx)


def _outcome(test: Any, ctx: Any) -> Any:
    try:
        return test(ctx)
    except EvaluationError as exc:
        return (exc.code, exc.message)
