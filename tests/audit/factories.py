"""Audit events for tests: realistic records, with any field overridden; JSON values to
stress canonical encoding."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from proctor.audit.canonical import digest
from proctor.model.audit_event import AuditEvent


def make_event(number: int = 1, **overrides: Any) -> AuditEvent:
    """A decision record numbered ``number`` (its decision id and order id say which)."""
    args = overrides.pop("args", {"amount": 42.5, "currency": "EUR", "order_id": f"ord-{number}"})
    fields: dict[str, Any] = {
        "kind": "decision",
        "decision_id": f"dec-{number:06d}",
        "ts": f"2026-05-09T07:35:{number % 60:02d}.123456Z",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "user": {"sub": "alice@example.com", "claims": {"tenant": "acme", "groups": ["support"]}},
        "agent": {"id": "support-bot", "role": "support", "tier": "verified", "tags": ["prod"]},
        "run_id": "run-7",
        "action": "write:refund",
        "resource": "order/123",
        "args": args,
        "args_digest": digest(args),
        "effect": "allow",
        "rule_ids": ("small-refunds",),
        "reason": "allowed by rule small-refunds",
        "effective_scopes": ("read:*", "write:refund"),
        "latency_us": 37.125,
    }
    fields.update(overrides)
    return AuditEvent(**fields)


# Characters that stress escaping and key order: controls, quotes, the BMP's
# top (U+E000-U+FFFF sorts differently by code point and by UTF-16), astral.
TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\uffff"]),
        st.sampled_from(["\U00010000", "\U0001f600", "\U0010ffff"]),
    ),
    max_size=8,
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-4, 1e-5, 1e16, 1e21, 1e-7, 2.0**53, 0.1 + 0.2, 5e-324]),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(TEXT, inner, max_size=4),
    ),
    max_leaves=20,
)
