"""What a governed tool raises when its call, or its result, is not allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proctor.errors import ProctorError
from proctor.model.decision import Decision

if TYPE_CHECKING:
    from proctor.runtime.scanning import OutputReview  # annotation only: no scanners on import


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


class OutputWithheld(ProctorError):
    """A governed tool ran, but policy withheld its result from the agent; ``review`` says why."""

    code = "output_withheld"

    def __init__(self, action: str, review: OutputReview) -> None:
        self.action = action
        self.review = review
        super().__init__(
            f"the result of `{action}` was withheld: {review.reason}",
            details={"review_id": review.review_id, "effect": review.effect.value},
        )

    @property
    def approval_id(self) -> str | None:
        """Set when a person may release it: approve, then run the identical call again."""
        return self.review.approval_id
