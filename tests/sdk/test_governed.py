"""``@governed_tool`` on plain and async functions, with the session in a contextvar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from proctor import ActionDenied, ApprovalRequired, Proctor, governed_tool
from proctor.clock import ManualClock
from proctor.model import Agent, Tier

POLICY = """
name: refunds
rules:
  - {id: small, action: "write:refund", effect: allow, when: "args.amount <= 100"}
  - {id: medium, action: "write:refund", effect: require_approval, when: "args.amount > 100"}
  - {action: "read:*", effect: allow}
"""

ran: list[tuple[str, Any]] = []


@governed_tool("write:refund")
def process_refund(order_id: str, amount: float, currency: str = "USD") -> str:
    ran.append(("refund", (order_id, amount, currency)))
    return f"refunded {amount}"


@governed_tool("read:orders")
async def lookup_order(order_id: str) -> str:
    await asyncio.sleep(0)
    ran.append(("lookup", order_id))
    return f"order {order_id}"


class Orders:
    @governed_tool("write:refund")
    def refund(self, amount: int) -> int:
        return amount


@pytest.fixture
def guard() -> Iterator[Proctor]:
    ran.clear()
    clock = ManualClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
    with Proctor.from_policies(
        texts=(POLICY,), agents=[Agent("bot", tier=Tier.VERIFIED)], clock=clock
    ) as instance:
        yield instance


def test_an_allowed_call_runs_with_its_bound_arguments(guard: Proctor) -> None:
    with guard.session(user={"sub": "alice", "scopes": ["*"]}):
        assert process_refund("A1", 40) == "refunded 40"
    assert ran == [("refund", ("A1", 40, "USD"))]
    record = guard.runtime.audit.tail(1)[0]
    assert record["args"] == {"order_id": "A1", "amount": 40, "currency": "USD"}
    assert record["user"]["sub"] == "alice"


def test_a_denied_call_does_not_run(guard: Proctor) -> None:
    with guard.session(), pytest.raises(ActionDenied) as caught:
        process_refund("A1", float("nan"))  # arguments proctor refuses
    assert ran == []
    assert caught.value.decision.effect.value == "deny"


def test_an_amount_the_rules_cannot_compare_is_held_not_run(guard: Proctor) -> None:
    # `medium` (require_approval) cannot evaluate `"a lot" > 100`: its effect applies
    with guard.session(), pytest.raises(ApprovalRequired) as caught:
        process_refund("A1", "a lot")  # type: ignore[arg-type]
    assert ran == []
    assert caught.value.decision.rule_ids == ("medium",)


def test_approval_raises_its_own_error(guard: Proctor) -> None:
    with guard.session(), pytest.raises(ApprovalRequired) as caught:
        process_refund("A1", 500)
    assert caught.value.decision.rule_ids == ("medium",)
    assert ran == []


def test_on_deny_replaces_the_exception(guard: Proctor) -> None:
    seen: list[tuple[str, str]] = []

    @governed_tool(
        "delete:orders", on_deny=lambda action, d, args: seen.append((action, d.code)) or "no"
    )
    def delete_order(order_id: str) -> str:
        return "deleted"

    with guard.session():
        assert delete_order("A1") == "no"
    assert seen == [("delete:orders", "default")]


def test_methods_skip_self(guard: Proctor) -> None:
    with guard.session():
        assert Orders().refund(10) == 10
    assert guard.runtime.audit.tail(1)[0]["args"] == {"amount": 10}


def test_async_tools_are_governed(guard: Proctor) -> None:
    async def main() -> str:
        with guard.session():
            return await lookup_order("A7")

    assert asyncio.run(main()) == "order A7"
    assert ran == [("lookup", "A7")]


def test_sessions_do_not_leak_between_tasks(guard: Proctor) -> None:
    async def in_session() -> str:
        with guard.session(user={"sub": "alice", "scopes": ["*"]}):
            await asyncio.sleep(0)
            return await lookup_order("A1")

    async def outside() -> str:
        await asyncio.sleep(0)
        return await lookup_order("A2")

    async def main() -> list[Any]:
        return await asyncio.gather(in_session(), outside(), return_exceptions=True)

    first, second = asyncio.run(main())
    assert first == "order A1"
    assert isinstance(second, ActionDenied)
    assert second.decision.code == "no_session"


def test_without_a_session_the_tool_is_refused() -> None:
    ran.clear()
    with pytest.raises(ActionDenied, match="outside a proctor session"):
        process_refund("A1", 1)
    assert ran == []
