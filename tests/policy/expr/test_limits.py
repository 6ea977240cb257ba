"""Bounds on compile-time size and run-time work."""

from __future__ import annotations

import pytest

from proctor.policy.expr import EvaluationError, ExpressionError, compile_expression
from tests.policy.expr.requests import make_context

BIG = "x" * (64 * 1024 + 1)


def _compile_error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    return caught.value


def _evaluation_error(source: str, args: dict[str, object]) -> EvaluationError:
    with pytest.raises(EvaluationError) as caught:
        compile_expression(source).evaluate(make_context({"args": args}))
    return caught.value


def test_sources_longer_than_4096_characters_are_rejected() -> None:
    source = "args.a == " + " + ".join(["1"] * 2100)
    assert len(source) > 4096
    assert _compile_error(source).code == "expr_too_large"


def test_more_than_256_nodes_are_rejected() -> None:
    too_many = " or ".join(["args.a == 1"] * 60)  # 4 nodes per clause, 1 per `or`
    assert compile_expression(" or ".join(["args.a == 1"] * 50)).node_count == 249
    error = _compile_error(too_many)
    assert error.code == "expr_too_large"
    assert "256 nodes" in error.message


def test_nesting_deeper_than_32_is_rejected() -> None:
    assert compile_expression("(" * 31 + "1" + ")" * 31).evaluate(make_context({})) == 1
    assert _compile_error("(" * 33 + "1" + ")" * 33).code == "expr_too_large"
    assert _compile_error("not " * 40 + "true").code == "expr_too_large"
    assert _compile_error("-" * 40 + "args.x").code == "expr_too_large"
    assert _compile_error(" + ".join(["args.x"] * 40)).code == "expr_too_large"
    assert _compile_error("[" * 40 + "]" * 40).code == "expr_too_large"


def test_long_or_chains_are_flat() -> None:
    source = " or ".join(f"args.a == {n}" for n in range(40))
    assert compile_expression(source).test(make_context({"args": {"a": 39}})) is True


def test_regexes_over_the_size_limit_are_rejected() -> None:
    error = _compile_error('args.s matches "' + "[a-z]{1000}" * 11 + '"')
    assert error.code == "expr_regex"
    assert "too large" in error.message


def test_matches_and_contains_refuse_inputs_over_64_kib() -> None:
    assert _evaluation_error('args.s matches "x"', {"s": BIG}).code == "limit_exceeded"
    assert _evaluation_error('args.s contains "x"', {"s": BIG}).code == "limit_exceeded"
    assert _evaluation_error('"x" in args.s', {"s": BIG}).code == "limit_exceeded"


def test_text_built_with_plus_is_capped_at_64_kib() -> None:
    error = _evaluation_error("args.s + args.s", {"s": "x" * (32 * 1024 + 1)})
    assert error.code == "limit_exceeded"
    ctx = make_context({"args": {"s": "x" * (32 * 1024)}})
    assert len(compile_expression("args.s + args.s").evaluate(ctx)) == 64 * 1024


def test_deeply_nested_values_cannot_exhaust_equality() -> None:
    def nested(depth: int) -> list[object]:
        value: list[object] = []
        for _ in range(depth):
            value = [value]
        return value

    error = _evaluation_error("args.a == args.b", {"a": nested(100), "b": nested(100)})
    assert error.code == "limit_exceeded"


def test_huge_numbers_do_not_escape_as_overflow() -> None:
    error = _evaluation_error("args.n * 1.5", {"n": 10**400})
    assert error.code == "limit_exceeded"
    assert "very large" in _evaluation_error("args.n > 'a'", {"n": 10**400}).message
