"""A stamped decision equals the one built field by field, and its prototype stays as it was."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from proctor.model.decision import Decision, Diagnostic, Effect
from proctor.model.request import Agent, CheckRequest
from proctor.policy.stamp import stamp

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
PROTOTYPE = Decision(Effect.DENY, "denied by rule `r`", ("r",), code="rule")
DIAG = (Diagnostic("missing_attribute", "`args.amount` is missing", "s"),)


@pytest.mark.parametrize(
    ("decision_id", "scopes", "diagnostics"),
    [("d-1", None, ()), ("", ("read:*",), ()), ("d-2", ("a:b", "c:*"), DIAG), ("", None, DIAG)],
)
def test_a_stamped_decision_is_the_one_built_field_by_field(
    decision_id: str, scopes: tuple[str, ...] | None, diagnostics: tuple[Diagnostic, ...]
) -> None:
    request = CheckRequest(
        "a:x", Agent("bot"), NOW, decision_id=decision_id, effective_scopes=scopes
    )
    before = asdict(PROTOTYPE)
    stamped = stamp(PROTOTYPE, request, diagnostics)
    expected = Decision(
        Effect.DENY,
        "denied by rule `r`",
        ("r",),
        decision_id,
        scopes or (),
        diagnostics=diagnostics,
        code="rule",
    )
    assert stamped == expected
    assert asdict(stamped) == asdict(expected)
    assert hash(stamped) == hash(expected)
    assert asdict(PROTOTYPE) == before


def test_a_request_with_nothing_to_stamp_gets_the_prototype() -> None:
    assert stamp(PROTOTYPE, CheckRequest("a:x", Agent("bot"), NOW)) is PROTOTYPE
