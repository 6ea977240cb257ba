"""docs/limits.md names every setting and every code: a new one fails here until documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.limits import errors, gate
from proctor.model.limits import LIMIT_KEYS
from proctor.policy.limits_schema import DemotionSpec, LimitSpec, RunsSpec, TierRuleSpec

DOC = (Path(__file__).parents[2] / "docs" / "limits.md").read_text()
SETTINGS = [
    *LimitSpec.model_fields,
    *RunsSpec.model_fields,
    *TierRuleSpec.model_fields,
    *DemotionSpec.model_fields,
    "approvers",
    "approval_ttl",
    "tiers",
]
CODES = [getattr(gate, name) for name in gate.__all__ if name.isupper() and name != "USAGE"]
ERRORS = [value for name, value in vars(errors).items() if name.isupper()]


@pytest.mark.parametrize("name", sorted(set(SETTINGS) - {"description"}))
def test_every_setting_is_documented(name: str) -> None:
    assert f"{name}:" in DOC


@pytest.mark.parametrize(
    "code",
    [
        *CODES,
        *ERRORS,
        "limit_usage",
        "state_unavailable",
        "policy_invalid_tier",
        "policy_duplicate_tier_rule_id",
    ],
)
def test_every_code_is_documented(code: str) -> None:
    assert f"`{code}`" in DOC


def test_every_limit_key_is_documented() -> None:
    assert "any of " + ", ".join(LIMIT_KEYS) in DOC
