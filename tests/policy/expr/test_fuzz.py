"""Property tests: compiling raises only ExpressionError, evaluating only EvaluationError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.policy.context import EvalContext
from proctor.policy.expr import (
    CompiledExpression,
    EvaluationError,
    ExpressionError,
    compile_expression,
)
from tests.policy.expr.requests import make_context

TOKENS = [
    *("args", "user", "agent", "time", "context", "run", "action", "resource", "nope"),
    *(".", "a", "s", "n", "items", "m", "tier", "hour", "groups", "tags", "clock", "in"),
    *("[", "]", "(", ")", ",", "0", "1", "-1", "2.5", "1e3", "1e999", "00", "9" * 25),
    *('"a"', "'b'", '"trusted"', '"\\d+"', '"("', '"1h"', '"2026-01-01T00:00:00Z"', '""'),
    *("true", "false", "null", "TRUE", "and", "or", "not", "AND", "Or", "NOT", "&&", "||", "!"),
    *("contains", "matches", "startswith", "endswith", "in", "not in"),
    *("==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "=", "&", "|", "@", "\\"),
    *("lower", "upper", "len", "abs", "round", "min", "max", "now", "timestamp", "duration"),
    *('"', "'", "\n", " "),
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["trusted", "a", "b", "2026-01-01", "1h", "\ud800"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "s", "k", "0"]), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def contexts(draw: st.DrawFn) -> EvalContext:
    args = draw(st.dictionaries(st.sampled_from(["a", "s", "n", "items", "m"]), json_values))
    return make_context(
        {
            "agent": {"id": "bot", "tier": draw(st.sampled_from(["verified", "privileged"]))},
            "user": draw(st.none() | st.just({"sub": "u", "claims": {"groups": ["a"]}})),
            "args": args,
            "context": draw(st.dictionaries(st.sampled_from(["a", "k"]), json_values)),
        }
    )


# Mostly well-formed expressions, so that evaluation is exercised too.
leaves = st.sampled_from(
    [
        *("args.a", "args.s", "args.n", "args.items", "args.items[0]", "args.m.k", "args.m['0']"),
        *("args.items[args.n]", "user.groups", "user.sub", "context.a", "time.hour", "time.clock"),
        *("agent.tier", "agent.tags", "action", "resource", "now()", "1", "-2.5", "0", "'a'"),
        *('"trusted"', "true", "false", "null", "[1, 'a']", "[]"),
    ]
)
BINARY = ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "and", "or", "in", "not in"]
BINARY += ["contains", "startswith", "endswith"]
UNARY = ["lower", "upper", "len", "abs", "round", "min", "max", "timestamp", "duration", "not", "-"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(BINARY), children).map(
        lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"
    )
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda parts: f"{parts[0]}({parts[1]})")
    regex = st.tuples(children, st.sampled_from(['"^a"', '"\\d+$"', '"(?i)TRUSTED"'])).map(
        lambda parts: f"{parts[0]} matches {parts[1]}"
    )
    calls = st.lists(children, min_size=2, max_size=3).map(lambda items: f"max({', '.join(items)})")
    listed = st.lists(children, max_size=3).map(lambda items: f"[{', '.join(items)}]")
    return binary | unary | regex | calls | listed


expressions = st.recursive(leaves, _extend, max_leaves=12)
token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).flatmap(
    lambda tokens: st.sampled_from([" ", ""]).map(lambda sep: sep.join(tokens))
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _compile(source: str) -> CompiledExpression | None:
    failure: ExpressionError | None = None
    try:
        return compile_expression(source)
    except ExpressionError as error:
        failure = error
    assert failure.location is not None
    assert failure.code.startswith("expr_")
    return None


def _run(compiled: CompiledExpression, ctx: EvalContext) -> None:
    for run in (compiled.evaluate, compiled.test):
        failure: EvaluationError | None = None
        try:
            run(ctx)
        except EvaluationError as error:
            failure = error
        if failure is not None:
            assert failure.code in ("missing_attribute", "type_error", "limit_exceeded")


@FUZZ
@given(st.text(max_size=200))
def test_compiling_any_text_raises_only_expression_errors(source: str) -> None:
    _compile(source)


@FUZZ
@given(token_soup, contexts())
def test_token_soup_compiles_or_fails_cleanly_and_evaluates_cleanly(
    source: str, ctx: EvalContext
) -> None:
    compiled = _compile(source)
    if compiled is not None:
        _run(compiled, ctx)


@FUZZ
@given(expressions, contexts())
def test_generated_expressions_evaluate_raising_only_evaluation_errors(
    source: str, ctx: EvalContext
) -> None:
    compiled = _compile(source)
    if compiled is not None:
        _run(compiled, ctx)
