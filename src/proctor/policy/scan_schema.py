"""The ``scan:`` section of a policy document: what to do with findings, per direction.

::

    scan:
      actions: ["write:*", "send:*"]    # optional; every action when absent
      fail: closed                       # a scanner that fails or runs over budget denies
      input:                             # tool arguments
        secret: deny
        pii.payment_card: {action: redact, mode: mask}
      output:                            # tool results (untrusted content)
        injection: {action: require_approval, min_score: 0.7}
        pii: redact

A key is a finding type or its family (``pii`` covers ``pii.email``); the most
specific key that matches a finding decides for it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCAN_ACTIONS = ("allow", "redact", "deny", "require_approval")
REDACTION_MODES = ("placeholder", "mask", "hash")
_TYPE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ScanActionSpec(_Strict):
    action: Literal["allow", "redact", "deny", "require_approval"]
    mode: Literal["placeholder", "mask", "hash"] = "placeholder"
    min_score: float = 0.5
    reason: str | None = None

    @field_validator("min_score")
    @classmethod
    def _a_probability(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"`min_score` must be between 0 and 1, not {value:g}")
        return value


class ScanSpec(_Strict):
    actions: list[str] | None = None
    fail: Literal["open", "closed"] | None = None  # None: a stage that raises still denies
    input: dict[str, ScanActionSpec] = Field(default_factory=dict)
    output: dict[str, ScanActionSpec] = Field(default_factory=dict)

    @field_validator("input", "output", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        """`secret: deny` is `secret: {action: deny}`."""
        if isinstance(value, dict):
            return {
                key: {"action": entry} if isinstance(entry, str) else entry
                for key, entry in value.items()
            }
        return value

    @field_validator("input", "output")
    @classmethod
    def _finding_types(cls, value: dict[str, ScanActionSpec]) -> dict[str, ScanActionSpec]:
        for key in value:
            if not key or not set(key) <= _TYPE_CHARACTERS or key.startswith("."):
                raise ValueError(
                    f"`{key}` is not a finding type: use a family such as `pii`, `secret`, "
                    "`injection`, or a type such as `pii.payment_card`"
                )
        return value
