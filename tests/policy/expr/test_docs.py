"""docs/conditions.md documents every root, time field, function and error code."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.policy.context import ROOTS, TIME_FIELDS
from proctor.policy.expr.functions import FUNCTIONS

DOC = (Path(__file__).parents[3] / "docs" / "conditions.md").read_text(encoding="utf-8")
CODES = [
    *("expr_syntax", "expr_unknown_root", "expr_unknown_field", "expr_unknown_function"),
    *("expr_arity", "expr_type", "expr_regex", "expr_too_large"),
    *("missing_attribute", "type_error", "limit_exceeded"),
]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_documented(name: str) -> None:
    assert f"`{name}(" in DOC


@pytest.mark.parametrize("name", [*ROOTS, *TIME_FIELDS])
def test_every_root_and_time_field_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("code", CODES)
def test_every_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in DOC
