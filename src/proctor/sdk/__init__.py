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

# Loaded on first use: the in-process SDK does not pull in the HTTP client, nor the other way round.
_EXPORTS = {
    "proctor.sdk.approvals": ("ApprovalDesk",),
    "proctor.sdk.client": ("make_agent", "make_user", "Proctor"),
    "proctor.sdk.errors": ("ActionDenied", "ApprovalRequired", "OutputWithheld", "ToolCallBlocked"),
    "proctor.sdk.governed": ("governed_tool",),
    "proctor.sdk.remote": ("ProctorClient",),
    "proctor.sdk.runs": ("RunSession",),
    "proctor.sdk.session": ("current_session", "Session"),
}
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
