"""`tainted()` and the `taint` root in whole policies; the semantics table is in cases.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model.decision import Effect
from proctor.model.request import Agent, CheckRequest
from proctor.policy import PolicyLoadError, load_policies
from proctor.policy.expr import compile_expression
from proctor.policy.expr.taint import argument_path
from proctor.scanners.candidates import values_in

POLICY = """\
name: payments
version: 1
default: deny
rules:
  - id: tainted-payee
    action: "write:payment"
    effect: require_approval
    when: "tainted(args.iban)"
  - id: web-driven-mail
    action: "send:email"
    effect: deny
    when: 'tainted(args.recipient) and taint.recipient.tool == "get_webpage"'
  - id: pay
    action: "write:payment"
    effect: allow
  - id: mail
    action: "send:email"
    effect: allow
"""
SOURCE = {"kind": "iban", "tool": "read_file", "call": "d-1", "at": "2026-03-02T10:00:00+00:00"}


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("policies") / "payments.yaml"
    path.write_text(POLICY)
    return load_policies([path])


def _request(action: str, args: dict[str, Any], taint: dict[str, Any]) -> CheckRequest:
    return CheckRequest(
        action=action,
        agent=Agent(id="bot"),
        now=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
        args=args,
        taint=taint,
    )


def test_a_tainted_payee_needs_approval(policies: Any) -> None:
    request = _request("write:payment", {"iban": "X", "amount": 5}, {"iban": SOURCE})
    decision = policies.evaluate(request)
    assert decision.effect is Effect.REQUIRE_APPROVAL
    assert decision.rule_ids == ("tainted-payee",)


def test_an_untainted_payee_is_allowed(policies: Any) -> None:
    decision = policies.evaluate(_request("write:payment", {"iban": "X"}, {"amount": SOURCE}))
    assert decision.effect is Effect.ALLOW


def test_the_source_tool_is_readable(policies: Any) -> None:
    web = {**SOURCE, "kind": "email", "tool": "get_webpage"}
    decision = policies.evaluate(_request("send:email", {"recipient": "a@b.c"}, {"recipient": web}))
    assert decision.effect is Effect.DENY
    assert decision.rule_ids == ("web-driven-mail",)


def test_an_untainted_recipient_passes_the_guarded_rule(policies: Any) -> None:
    decision = policies.evaluate(_request("send:email", {"recipient": "a@b.c"}, {}))
    assert decision.effect is Effect.ALLOW
    assert decision.diagnostics == ()


def test_an_unguarded_taint_path_fails_closed_for_a_deny_rule() -> None:
    # `taint.recipient` is missing when nothing is tainted: a deny rule then applies
    unguarded = POLICY.replace("tainted(args.recipient) and ", "")
    decision = load_policies(texts=[unguarded]).evaluate(
        _request("send:email", {"recipient": "a@b.c"}, {})
    )
    assert decision.effect is Effect.DENY
    assert decision.code == "condition_error"
    assert [d.code for d in decision.diagnostics] == ["missing_attribute"]


def test_a_non_path_argument_is_a_located_load_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nrules:\n  - action: 'write:payment'\n    effect: deny\n"
        "    when: 'tainted(user.email)'\n"
    )
    with pytest.raises(PolicyLoadError) as caught:
        load_policies([path])
    [error] = caught.value.errors
    assert error.code == "expr_type"
    assert "`tainted` needs an argument path" in error.message
    assert error.location is not None
    assert (error.location.line, error.location.column) == (5, 20)


def test_a_condition_using_tainted_reads_taint() -> None:
    assert "taint" in compile_expression("tainted(args.to)").paths


KEYS = st.one_of(
    st.integers(min_value=0, max_value=3),
    st.text(alphabet='ab_-. ["]\\1', min_size=1, max_size=6),
)


@settings(deadline=None)
@given(st.lists(KEYS, min_size=1, max_size=4))
def test_taint_keys_are_spelt_like_condition_paths(keys: list[str | int]) -> None:
    """The path `values_in` records for a value is the one `tainted(...)` looks up."""
    if isinstance(keys[0], int):
        keys = ["top", *keys]
    tree: Any = "mark@example.com"
    for key in reversed(keys):
        tree = [tree] * (key + 1) if isinstance(key, int) else {key: tree}
    expected = ""
    for key in keys:
        expected = argument_path(expected, key)
    assert expected in values_in(tree)
