"""The answer to a check: a value, never an exception."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from proctor.model.frozen import built_at_once

# The codes of a deny given because a store could not take the check's record
# (the audit) or its state (counters, runs, approvals): infrastructure, not policy.
AUDIT_UNAVAILABLE = "audit_unavailable"
STATE_UNAVAILABLE = "state_unavailable"


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"

    def __str__(self) -> str:
        return self.value


# read once (the properties below): a member read through its enum class costs more
_ALLOW, _DENY, _APPROVAL = Effect.ALLOW, Effect.DENY, Effect.REQUIRE_APPROVAL

# Deny overrides approval, approval overrides allow.
EFFECT_PRECEDENCE = {Effect.DENY: 3, Effect.REQUIRE_APPROVAL: 2, Effect.ALLOW: 1}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something noted while deciding: a condition that could not be evaluated, a shadow denial."""

    code: str
    message: str
    rule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "rule_id": self.rule_id}


@dataclass(frozen=True, slots=True)
class ShadowResult:
    """What policies in ``mode: audit`` would have decided had they been enforced."""

    effect: Effect
    rule_ids: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"effect": self.effect.value, "rule_ids": list(self.rule_ids), "reason": self.reason}


@built_at_once  # built on every check: one assignment, not a setattr per field
@dataclass(frozen=True)
class Decision:
    """The outcome of one check.

    ``rule_ids`` lists every rule that contributed the deciding effect;
    ``diagnostics`` keeps what could not be evaluated; ``shadow`` is set when a
    policy in audit mode would have decided otherwise.
    """

    effect: Effect
    reason: str
    rule_ids: tuple[str, ...] = ()
    decision_id: str = ""
    effective_scopes: tuple[str, ...] = ()
    obligations: tuple[dict[str, Any], ...] = ()
    findings: tuple[dict[str, Any], ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    shadow: ShadowResult | None = None
    code: str = ""
    redacted_args: Mapping[str, Any] | None = None  # the arguments to pass on, when redacted

    @property
    def allowed(self) -> bool:
        return self.effect is _ALLOW

    @property
    def denied(self) -> bool:
        return self.effect is _DENY

    @property
    def masks_args(self) -> bool:
        return self.redacted_args is not None

    def passed_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments the tool gets: ``args`` as checked, with what an input scan masked.

        Every door (``@governed_tool``, the proxy, the framework adapters) hands the
        tool these, never the values in clear that the scan found. ``redacted_args``
        holds every argument, so a key the scan masked is not passed on beside its
        masked form.
        """
        if self.redacted_args is None:
            return dict(args)
        return dict(self.redacted_args)

    @property
    def requires_approval(self) -> bool:
        return self.effect is _APPROVAL

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "effect": self.effect.value,
            "allowed": self.allowed,
            "reason": self.reason,
            "rule_ids": list(self.rule_ids),
            "decision_id": self.decision_id,
            "effective_scopes": list(self.effective_scopes),
        }
        if self.code:
            body["code"] = self.code
        if self.obligations:
            body["obligations"] = list(self.obligations)
        if self.findings:
            body["findings"] = list(self.findings)
        if self.diagnostics:
            body["diagnostics"] = [item.to_dict() for item in self.diagnostics]
        if self.shadow is not None:
            body["shadow"] = self.shadow.to_dict()
        if self.redacted_args is not None:
            body["redacted_args"] = dict(self.redacted_args)
        return body
