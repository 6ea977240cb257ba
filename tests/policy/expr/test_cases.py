"""Runs the data-driven semantics in cases.yaml against compile_expression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proctor.policy.expr import EvaluationError, ExpressionError, compile_expression
from tests.policy.expr.requests import make_context, plain

_DATA = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8"))
_DEFAULT_REQUEST: dict[str, Any] = _DATA["defaults"]["request"]
CASES: list[dict[str, Any]] = _DATA["cases"]
_OUTCOMES = ("expect", "compile_error", "eval_error", "test_error")


def _request(case: dict[str, Any]) -> dict[str, Any]:
    return {**_DEFAULT_REQUEST, **(case.get("request") or {})}


def test_the_corpus_is_well_formed() -> None:
    assert len(CASES) >= 60
    for case in CASES:
        assert isinstance(case["expr"], str), case
        assert sum(key in case for key in _OUTCOMES) == 1, case
        assert set(case) <= {"expr", "request", *_OUTCOMES}, case


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{case['expr']}" for i, case in enumerate(CASES)])
def test_case(case: dict[str, Any]) -> None:
    if "compile_error" in case:
        with pytest.raises(ExpressionError) as caught:
            compile_expression(case["expr"])
        assert caught.value.code == case["compile_error"], caught.value
        return
    compiled = compile_expression(case["expr"])
    ctx = make_context(_request(case))
    if "eval_error" in case:
        with pytest.raises(EvaluationError) as failed:
            compiled.evaluate(ctx)
        assert failed.value.code == case["eval_error"], failed.value
        with pytest.raises(EvaluationError):
            compiled.test(ctx)
        return
    result = compiled.evaluate(ctx)
    if "test_error" in case:
        with pytest.raises(EvaluationError) as tested:
            compiled.test(ctx)
        assert tested.value.code == case["test_error"]
        return
    assert plain(result) == plain(case["expect"])
    if isinstance(case["expect"], bool):
        assert compiled.test(ctx) is case["expect"]
