"""The SDK: ``Proctor`` in-process, ``ProctorClient`` over a gateway, ``@governed_tool``."""

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
