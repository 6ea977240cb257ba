"""The SDK with delegation tokens: `Proctor.exchange`, sessions and `@governed_tool`."""

from __future__ import annotations

import pytest

from proctor import Proctor, ToolCallBlocked, governed_tool
from proctor.identity.errors import ExchangeError
from tests.identity import factory as f


@governed_tool("write:refund")
def refund(order_id: str, amount: int) -> str:
    return f"refunded {order_id}"


def test_exchange_then_session_then_governed_tools() -> None:
    guard = Proctor(f.runtime(), agent="sales-assistant")
    alice = guard.exchange(subject_token=f.user_token("alice", "read:* write:refund"))
    bob = guard.exchange(subject_token=f.user_token("bob", "read:*"))
    assert alice.scope == "read:crm read:orders write:refund"
    with guard.session(token=alice.access_token):
        assert refund("A-1", 40) == "refunded A-1"
    with guard.session(token=bob.access_token), pytest.raises(ToolCallBlocked) as blocked:
        refund("A-2", 40)
    assert blocked.value.decision.code == "scope_missing"
    record = f.last_record(guard.runtime)
    assert record["user"]["sub"] == "bob"
    assert record["agent"]["id"] == "sales-assistant"
    assert record["effective_scopes"] == ["read:crm", "read:orders"]
    guard.close()


def test_exchange_errors_surface_with_their_wire_form() -> None:
    guard = Proctor(f.runtime())
    with pytest.raises(ExchangeError) as caught:
        guard.exchange(
            subject_token=f.user_token("bob", "read:*"),
            actor="sales-assistant",
            scope="write:refund",
        )
    assert caught.value.to_response()["error"] == "invalid_scope"
    guard.close()
