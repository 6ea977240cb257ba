"""Errors of the policy package: broken policy documents, located in their file."""

from __future__ import annotations

from proctor.errors import ErrorGroup, ProctorError


class PolicyError(ProctorError):
    """One problem in a policy document (code names the kind: `policy_unknown_key`...)."""

    code = "policy_error"


class PolicyLoadError(ErrorGroup):
    """Every problem found while loading a set of policy documents, reported together."""

    def __init__(self, errors: list[ProctorError]) -> None:
        super().__init__(errors, code="invalid_policy")
