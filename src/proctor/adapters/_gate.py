"""What every framework adapter shares: a tool's action, the check, the message a refusal leaves.

A framework calls a tool by name with arguments; the gate turns that into a
proctor check in the session of the user and agent the run belongs to, and
turns a refusal into a tool message the model can read (or an exception, when
the adapter is asked to raise). Allowed results pass through the session's
output review, which may redact them or replace them with a refusal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from proctor.model.decision import Decision, Effect
from proctor.sdk.errors import ToolCallBlocked
from proctor.sdk.governed import blocked_error
from proctor.sdk.session import Session, current_session

log = logging.getLogger(__name__)

OnBlock = Literal["message", "raise"]
"""What a refused call does: leave a tool message for the model, or raise ``ToolCallBlocked``."""

ON_BLOCK_CHOICES: tuple[OnBlock, ...] = ("message", "raise")


class GateOptions(TypedDict, total=False):
    """What an adapter is built with, handed to its ``FrameworkGate`` (see there)."""

    actions: Mapping[str, str] | None
    session: Session | None
    on_block: OnBlock


def default_action(tool_name: str) -> str:
    return f"call:{tool_name}"


@dataclass(frozen=True, slots=True)
class CheckedCall:
    """One tool call and proctor's answer to it, with the session that answered."""

    tool_name: str
    action: str
    args: Mapping[str, Any]
    decision: Decision
    session: Session | None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


@dataclass(frozen=True, slots=True)
class ReviewedOutput:
    """A tool's result after the output review: ``value`` is what the model may see."""

    value: Any
    changed: bool
    refused: bool


class FrameworkGate:
    """An agent framework's tool calls checked by name; refusals phrased for the model.

    (The MCP proxy's gate is ``proctor.mcp.gate.ToolGate``.)

    ``actions`` maps a tool name to its action (else ``call:<tool name>``);
    ``session`` is used when given, else the one entered with
    ``with proctor.session(...)`` in this thread or task. Without either, every
    call is refused (``code: no_session``).
    """

    def __init__(
        self,
        *,
        actions: Mapping[str, str] | None = None,
        session: Session | None = None,
        on_block: OnBlock = "message",
    ) -> None:
        if on_block not in ON_BLOCK_CHOICES:
            raise ValueError(f"on_block must be `message` or `raise`, not `{on_block}`")
        self.actions = dict(actions or {})
        self.session = session
        self.on_block = on_block

    def action_for(self, tool_name: str) -> str:
        return self.actions.get(tool_name) or default_action(tool_name)

    def check(self, tool_name: str, args: Mapping[str, Any] | None) -> CheckedCall:
        action = self.action_for(tool_name)
        arguments = dict(args or {})
        active = self.session or current_session()
        decision = no_session(action) if active is None else active.check(action, args=arguments)
        return CheckedCall(tool_name, action, arguments, decision, active)

    def check_json(self, tool_name: str, arguments: str | None) -> CheckedCall:
        """``check`` for frameworks that hand over the model's arguments as JSON text."""
        try:
            parsed = json.loads(arguments) if arguments else {}
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            action = self.action_for(tool_name)
            decision = Decision(
                Effect.DENY,
                f"the arguments of `{tool_name}` are not a JSON object",
                code="invalid_arguments",
            )
            return CheckedCall(tool_name, action, {}, decision, self.session or current_session())
        return self.check(tool_name, parsed)

    def refuse(self, call: CheckedCall, *, output: bool = False) -> str:
        """The tool message for a refused call, or ``ToolCallBlocked`` when set to raise."""
        if self.on_block == "raise":
            raise blocked_error(call.action, call.decision)
        return refusal_message(call.tool_name, call.action, call.decision, output=output)

    def review_output(self, call: CheckedCall, result: Any) -> ReviewedOutput:
        """Pass an allowed call's result through the session's output review.

        Redactions come back in ``value``; a withheld result (deny, or held for
        approval) becomes a refusal message, or ``ToolCallBlocked`` when set to raise.
        """
        try:
            if call.session is None:  # only allowed calls are reviewed, and they had a session
                raise ValueError("the call has no session")
            review = call.session.record_output(
                call.action, result, decision=call.decision, tool=call.tool_name
            )
        except Exception as exc:  # a result that cannot be reviewed is withheld, never passed
            log.exception("could not review the result of `%s`", call.action)
            unreviewed = Decision(
                Effect.DENY,
                f"the result could not be reviewed ({type(exc).__name__}), so it is withheld",
                decision_id=call.decision.decision_id,
                code="output_unreviewed",
            )
            held = CheckedCall(call.tool_name, call.action, call.args, unreviewed, call.session)
            return ReviewedOutput(self.refuse(held, output=True), changed=True, refused=True)
        if review.effect is not Effect.ALLOW:
            withheld = Decision(
                review.effect,
                review.reason,
                rule_ids=review.rule_ids,
                decision_id=review.review_id or call.decision.decision_id,
                obligations=({"approval_id": review.approval_id},) if review.approval_id else (),
                findings=review.findings,
                code=review.code or "output_withheld",
            )
            held = CheckedCall(call.tool_name, call.action, call.args, withheld, call.session)
            return ReviewedOutput(self.refuse(held, output=True), changed=True, refused=True)
        changed = review.redacted or review.value is not result
        return ReviewedOutput(review.value, changed=changed, refused=False)


def refusal_message(
    tool_name: str, action: str, decision: Decision, *, output: bool = False
) -> str:
    """What the model reads in place of the tool's result: what happened, why, what next."""
    reason = decision.reason.rstrip(".")
    approval = approval_id(decision)
    if output:
        text = f"proctor withheld the result of `{tool_name}` (action `{action}`): {reason}."
        if decision.effect is Effect.REQUIRE_APPROVAL:
            text += f" Approval id: {approval or 'unknown'}."
    elif decision.effect is Effect.REQUIRE_APPROVAL:
        text = (
            f"proctor held the call to `{tool_name}` (action `{action}`) for approval: {reason}. "
            f"The tool did not run. Approval id: {approval or 'unknown'}. Once a person approves "
            "it, the identical call may be made again."
        )
    else:
        text = (
            f"proctor denied the call to `{tool_name}` (action `{action}`): {reason}. "
            "The tool did not run."
        )
    if decision.decision_id:
        text += f" Decision id: {decision.decision_id}."
    return text


def approval_id(decision: Decision) -> str | None:
    for item in decision.obligations:
        if "approval_id" in item:
            return str(item["approval_id"])
    return None


def no_session(action: str) -> Decision:
    return Decision(
        Effect.DENY,
        f"`{action}` was called outside a proctor session; enter `with proctor.session(...)` "
        "first or pass `session=` to the adapter",
        code="no_session",
    )


def missing_extra(module: str, framework: str, extra: str, cause: ImportError) -> ImportError:
    """The ImportError raised when a framework adapter is imported without its extra."""
    error = ImportError(
        f"`{module}` needs {framework}, an optional extra: pip install 'proctor[{extra}]' ({cause})"
    )
    error.__cause__ = cause
    return error


__all__ = [
    "CheckedCall",
    "FrameworkGate",
    "OnBlock",
    "ReviewedOutput",
    "ToolCallBlocked",
    "approval_id",
    "default_action",
    "missing_extra",
    "refusal_message",
]
