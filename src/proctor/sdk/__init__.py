"""The SDK: ``Proctor`` in-process, ``ProctorClient`` over a gateway, ``@governed_tool``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proctor._lazy import lazy_exports

if TYPE_CHECKING:
    from proctor.sdk.approvals import ApprovalDesk
    from proctor.sdk.client import Proctor, make_agent, make_user
    from proctor.sdk.errors import ActionDenied, ApprovalRequired, OutputWithheld, ToolCallBlocked
    from proctor.sdk.governed import governed_tool
    from proctor.sdk.remote import ProctorClient
    from proctor.sdk.runs import RunSession
    from proctor.sdk.session import Session, current_session

# Loaded on first use: the in-process SDK does not pull in the HTTP client, nor the other way round.
_EXPORTS = {
    "ActionDenied": "proctor.sdk.errors",
    "ApprovalDesk": "proctor.sdk.approvals",
    "ApprovalRequired": "proctor.sdk.errors",
    "current_session": "proctor.sdk.session",
    "governed_tool": "proctor.sdk.governed",
    "make_agent": "proctor.sdk.client",
    "make_user": "proctor.sdk.client",
    "OutputWithheld": "proctor.sdk.errors",
    "Proctor": "proctor.sdk.client",
    "ProctorClient": "proctor.sdk.remote",
    "RunSession": "proctor.sdk.runs",
    "Session": "proctor.sdk.session",
    "ToolCallBlocked": "proctor.sdk.errors",
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

__all__ = [
    "ActionDenied",
    "ApprovalDesk",
    "ApprovalRequired",
    "OutputWithheld",
    "Proctor",
    "ProctorClient",
    "RunSession",
    "Session",
    "ToolCallBlocked",
    "current_session",
    "governed_tool",
    "make_agent",
    "make_user",
]
