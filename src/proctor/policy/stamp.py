"""Decisions stamped from a prototype worked out once per action and deciding rules.

A decision on an action differs from another decided by the same rules only in
the request's ``decision_id`` and ``effective_scopes`` (and in its diagnostics,
when a condition could not be evaluated). The plan keeps a prototype, built
with ``Decision`` itself, so every field and default is the class's own;
``stamp`` makes each decision from it with one dict copy, the way
``Decision``'s own ``__init__`` (``model.frozen.built_at_once``) sets its
``__dict__`` in one call, instead of an eleven-argument call per check. A
request with neither an id nor scopes (pure engine use) gets the prototype
itself: a decision is an immutable value.
"""

from __future__ import annotations

from proctor.model.decision import Decision, Diagnostic
from proctor.model.request import CheckRequest

_new = object.__new__
_set = object.__setattr__


def stamp(
    prototype: Decision, request: CheckRequest, diagnostics: tuple[Diagnostic, ...] = ()
) -> Decision:
    """``prototype`` with the request's id and scopes (and ``diagnostics``): equal to the
    decision built field by field."""
    decision_id, scopes = request.decision_id, request.effective_scopes
    if not decision_id and not scopes and not diagnostics:
        return prototype
    values = prototype.__dict__.copy()
    values["decision_id"] = decision_id
    values["effective_scopes"] = scopes or ()
    if diagnostics:
        values["diagnostics"] = diagnostics
    decision: Decision = _new(Decision)
    _set(decision, "__dict__", values)
    return decision
