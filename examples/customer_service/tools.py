"""The support agent's tools, governed by proctor. Each returns a short text."""

from __future__ import annotations

from proctor import governed_tool


@governed_tool("read:orders")
def lookup_order(order_id: str) -> str:
    return f"order {order_id}: 2 items, shipped"


@governed_tool("write:refund")
def process_refund(order_id: str, amount: float, currency: str = "USD") -> str:
    return f"refunded {amount} {currency} on {order_id}"


@governed_tool("write:email")
def send_email(to: str, subject: str) -> str:
    return f"sent `{subject}` to {to}"


@governed_tool("delete:customer")
def delete_customer(customer_id: str) -> str:
    return f"deleted customer {customer_id}"
