"""What a governed tool raises when its call is not allowed."""

from __future__ import annotations

from proctor.errors import ProctorError
from proctor.model.decision import Decision


class ToolCallBlocked(ProctorError):
    """A governed tool did not run; ``decision`` says why."""

    code = "tool_call_blocked"

    def __init__(self, action: str, decision: Decision) -> None:
        self.action = action
        self.decision = decision
        super().__init__(
            f"`{action}` was not run: {decision.reason}",
            details={"decision_id": decision.decision_id, "effect": decision.effect.value},
        )


class ActionDenied(ToolCallBlocked):
    code = "action_denied"


class ApprovalRequired(ToolCallBlocked):
    code = "approval_required"

    @property
    def approval_id(self) -> str | None:
        """The pending approval to decide, then retry the call (or ``Proctor.approvals.wait``)."""
        for item in self.decision.obligations:
            if "approval_id" in item:
                return str(item["approval_id"])
        return None
