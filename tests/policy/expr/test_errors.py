"""Compile errors: codes, locations inside the expression, hints and message style."""

from __future__ import annotations

import pytest

from proctor.errors import Location, ProctorError
from proctor.policy.expr import ExpressionError, compile_expression

BASE = Location("policies/refunds.yaml", 12, 11)


def _error(source: str, location: Location | None = BASE) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, location=location)
    return caught.value


@pytest.mark.parametrize(
    ("source", "code", "offset"),
    [
        ("time.hourz >= 9", "expr_unknown_field", 5),
        ("args.amount <= ", "expr_syntax", 15),
        ('args.x == "open', "expr_syntax", 10),
        ("nope.x > 1", "expr_unknown_root", 0),
        ('time.hour >= "9"', "expr_type", 13),
        ('agent.tier >= "superuser"', "expr_type", 14),
        ("len(args.a, 2)", "expr_arity", 0),
        ('args.s matches "(a"', "expr_regex", 15),
        ("args.a and lenn(args.b)", "expr_unknown_function", 11),
        ("1 + 2 $ 3", "expr_syntax", 6),
    ],
)
def test_errors_point_at_the_offending_token(source: str, code: str, offset: int) -> None:
    error = _error(source)
    assert error.code == code
    assert error.location == Location("policies/refunds.yaml", 12, 11 + offset)
    assert error.details["offset"] == offset


def test_lines_and_columns_are_computed_in_multi_line_expressions() -> None:
    error = _error("args.a == 1 and\n  time.hourz > 1")
    assert error.location == Location("policies/refunds.yaml", 13, 8)


def test_without_a_location_the_expression_is_the_file() -> None:
    error = _error("args.x >", location=None)
    assert error.location == Location("<expression>", 1, 9)
    assert str(error).startswith("<expression>:1:9: error[expr_syntax]: unexpected end")


def test_an_unknown_field_suggests_the_closest_one() -> None:
    error = _error("time.hourz > 9")
    assert error.message == "unknown field `hourz` of `time`"
    assert error.hint == "did you mean `hour`?"


def test_an_unknown_root_suggests_the_closest_one() -> None:
    assert _error("arg.amount > 1").hint == "did you mean `args`?"
    assert _error("Args.amount > 1").hint == "did you mean `args`?"


def test_an_unknown_function_suggests_the_closest_one() -> None:
    error = _error("lowr(args.to)")
    assert error.message == "unknown function `lowr`"
    assert error.hint == "did you mean `lower`?"


def test_without_a_close_name_the_hint_lists_the_choices() -> None:
    hint = _error("zzzz.x").hint
    assert hint is not None
    assert hint.startswith("expected one of: ")
    assert "args" in hint
    assert "time" in hint


def test_a_single_equals_sign_gets_a_hint() -> None:
    assert _error("args.a = 1").hint == "use `==` to compare"


def test_an_unknown_tier_lists_the_tiers() -> None:
    error = _error('agent.tier >= "root"')
    assert error.message == "unknown tier `root`"
    assert error.hint == "expected one of: unverified, verified, trusted, privileged"


@pytest.mark.parametrize(
    "source",
    [
        "args.amount <=",
        'time.hour >= "9"',
        "time.hourz",
        "nope.x",
        "lowr(1)",
        "len(1, 2)",
        '"a" * 2',
        'args.s matches "("',
        "1 < 2 < 3",
        '"open',
        "x" * 5000,
    ],
)
def test_messages_follow_the_style_guide(source: str) -> None:
    error = _error(source)
    assert isinstance(error, ProctorError)
    assert error.message == error.message.strip()
    assert not error.message.endswith(".")
    assert error.message[0] == error.message[0].lower()
    for internal in ("str", "int", "float", "NoneType", "dict", "Literal", "Token", "Operand"):
        assert f" {internal} " not in f" {error.message} "
    assert error.to_dict()["code"] == error.code


def test_the_first_error_of_an_expression_is_raised() -> None:
    error = _error("nope.x > 1 and time.hourz")
    assert error.code == "expr_unknown_root"


@pytest.mark.parametrize(
    "source", ["true or nope.x", "false and time.hourz", "true or lenn(1)", "false and 1"]
)
def test_operands_cut_off_by_a_constant_are_still_checked(source: str) -> None:
    _error(source)
