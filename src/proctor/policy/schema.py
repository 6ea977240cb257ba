"""The shape of a policy document, checked with pydantic and reported with locations.

Accepts the MeshGuard-style document verbatim (``name``, ``version``,
``rules`` with ``action``, ``effect``, ``conditions``, ``reason``) and adds
``id``, ``when``, ``applies_to``, ``default``, ``mode``, ``scopes``,
``on_error`` and argument ``schemas``.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from proctor.model.tiers import TIER_NAMES
from proctor.policy.errors import PolicyError
from proctor.policy.limits_schema import DemotionSpec, LimitSpec, RunsSpec, TierRuleSpec
from proctor.policy.scan_schema import ScanActionSpec, ScanSpec
from proctor.policy.source import LocatedDocument

EFFECTS = ("allow", "deny", "require_approval")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AgentSelectorSpec(_Strict):
    """Which agents a policy or rule applies to; every key given must match (any listed value)."""

    agents: list[str] | None = None
    roles: list[str] | None = None
    tiers: list[str] | None = None
    min_tier: str | None = None
    tags: list[str] | None = None

    @field_validator("tiers")
    @classmethod
    def _known_tiers(cls, value: list[str] | None) -> list[str] | None:
        for tier in value or ():
            _check_tier(tier)
        return value

    @field_validator("min_tier")
    @classmethod
    def _known_min_tier(cls, value: str | None) -> str | None:
        if value is not None:
            _check_tier(value)
        return value


class RuleSpec(_Strict):
    id: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    action: str | list[str]
    effect: Literal["allow", "deny", "require_approval"]
    conditions: list[str] = Field(default_factory=list)
    when: str | None = None
    reason: str | None = None
    applies_to: AgentSelectorSpec | None = None
    scopes: list[str] = Field(default_factory=list)
    # None: by effect (a deny or approval rule applies; an allow rule does not match)
    on_error: Literal["skip", "deny"] | None = None
    approvers: list[str] = Field(default_factory=list)
    approval_ttl: str | None = None


class ArgSchemaSpec(_Strict):
    """The argument types of one or more actions (``arg_schemas``)."""

    action: str | list[str]
    args: dict[str, str | dict[str, Any]]


class PolicyDocumentSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    version: int | str = 1
    description: str | None = None
    applies_to: AgentSelectorSpec | None = None
    default: Literal["allow", "deny"] = "deny"
    mode: Literal["enforce", "audit"] = "enforce"
    rules: list[RuleSpec] = Field(default_factory=list)
    limits: list[LimitSpec] = Field(default_factory=list)
    runs: RunsSpec | None = None
    tiers: list[TierRuleSpec] = Field(default_factory=list)
    scan: ScanSpec | None = None
    schemas: list[ArgSchemaSpec] = Field(default_factory=list)


def _check_tier(value: str) -> None:
    if value.strip().lower() not in TIER_NAMES:
        raise ValueError(f"unknown tier `{value}`; expected one of {_quoted(TIER_NAMES)}")


def _quoted(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def validate_document(
    document: LocatedDocument,
) -> tuple[PolicyDocumentSpec | None, list[PolicyError]]:
    """The checked document, or every shape error in it with its location."""
    if not isinstance(document.value, dict):
        error = PolicyError(
            "a policy document must be a mapping with `name` and `rules`",
            code="policy_not_a_mapping",
            location=document.location(()),
        )
        return None, [error]
    try:
        return PolicyDocumentSpec.model_validate(document.value), []
    except ValidationError as exc:
        return None, [_translate(error, document) for error in exc.errors()]


def _translate(error: Any, document: LocatedDocument) -> PolicyError:
    """One pydantic error as a located, lowercase proctor error."""
    path = _clean_path(error["loc"])
    kind = error["type"]
    field_name = str(path[-1]) if path else "document"
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(field_name, known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys: {_quoted(known)}"
        return PolicyError(
            f"unknown key `{field_name}`{_where(path[:-1])}",
            code="policy_unknown_key",
            location=document.location(path, key=True),
            hint=hint,
        )
    if kind == "missing":
        return PolicyError(
            f"missing required key `{field_name}`{_where(path[:-1])}",
            code="policy_missing_key",
            location=document.location(path[:-1]),
        )
    if kind == "literal_error":
        expected = tuple(
            error["ctx"]["expected"].replace("'", "").replace(" or ", ", ").split(", ")
        )
        given = error.get("input")
        close = difflib.get_close_matches(str(given), expected, n=1)
        return PolicyError(
            f"`{given}` is not a valid {field_name.replace('_', ' ')}; "
            f"expected one of {_quoted(expected)}",
            code=f"policy_invalid_{field_name}",
            location=document.location(path),
            hint=f"did you mean `{close[0]}`?" if close else None,
        )
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return PolicyError(message, code="policy_invalid_value", location=document.location(path))
    expected_type = _TYPE_WORDS.get(kind.split("_")[0], kind.replace("_", " "))
    return PolicyError(
        f"`{field_name}` must be {expected_type}{_where(path[:-1])}",
        code="policy_invalid_type",
        location=document.location(path),
    )


_TYPE_WORDS = {
    "string": "text",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "int": "a whole number",
    "bool": "true or false",
    "too": "shorter",
}


def _clean_path(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    # pydantic adds union member names ("str", "list[str]") into the location
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part in ("str", "int")))
    )


def _where(path: tuple[str | int, ...]) -> str:
    if not path:
        return ""
    if path[0] == "rules" and len(path) >= 2:
        rest = "".join(f".{part}" for part in path[2:])
        return f" in rule {int(path[1]) + 1}{rest}"
    return " in `" + ".".join(str(part) for part in path) + "`"


# The model a section of a document is read with, by the key that names it.
_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "rules": RuleSpec,
    "applies_to": AgentSelectorSpec,
    "limits": LimitSpec,
    "runs": RunsSpec,
    "tiers": TierRuleSpec,
    "demote": DemotionSpec,
    "scan": ScanSpec,
    "schemas": ArgSchemaSpec,
}


def _model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = PolicyDocumentSpec
    for part in path:
        if isinstance(part, int):
            continue
        section = _SECTION_MODELS.get(part)
        if section is not None:
            model = section
        elif part in ("input", "output") and model is ScanSpec:
            return ScanActionSpec
        else:
            return None
    return model
