"""What every framework adapter shares: a tool's action, the check, the message a refusal leaves.

A framework calls a tool by name with arguments; the gate turns that into a
proctor check in the session of the user and agent the run belongs to, and
turns a refusal into a tool message the model can read (or an exception, when
the adapter is asked to raise). A tool is named and described exactly as the
MCP proxy names and describes it (``proctor.sdk.tools``): ``call:<server>/<tool>``
and its MCP annotations as ``context.tool``, so one policy governs a tool
whichever way it is called. Allowed results pass through the same review as
the proxy's: scanned, redacted or withheld, recorded, remembered for provenance.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, Required, TypedDict, TypeVar

from proctor.model.decision import Decision, Effect
from proctor.sdk.errors import ToolCallBlocked
from proctor.sdk.governed import blocked_error
from proctor.sdk.session import Session, current_session
from proctor.sdk.tools import ToolInfo, describe_tool, review_result, unlisted_tool

log = logging.getLogger(__name__)

OnBlock = Literal["message", "raise"]
"""What a refused call does: leave a tool message for the model, or raise ``ToolCallBlocked``."""

ON_BLOCK_CHOICES: tuple[OnBlock, ...] = ("message", "raise")


class ToolOptions(TypedDict, total=False):
    """How an adapter names and describes its tools, and whose session checks them."""

    server: Required[str]
    actions: Mapping[str, str] | None
    annotations: Mapping[str, Mapping[str, Any]] | None
    session: Session | None


class GateOptions(ToolOptions, total=False):
    """``ToolOptions`` and what a refusal does: ``FrameworkGate``'s keyword arguments."""

    on_block: OnBlock


@dataclass(frozen=True, slots=True)
class CheckedCall:
    """One tool call and proctor's answer to it, with the session that answered."""

    tool: ToolInfo
    args: Mapping[str, Any]
    decision: Decision
    session: Session | None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def tool_name(self) -> str:
        return self.tool.name

    @property
    def action(self) -> str:
        return self.tool.action

    @property
    def masked(self) -> bool:
        """Whether an input scan masked some argument: the tool must get ``passed_args``."""
        return self.decision.allowed and self.decision.masks_args

    @property
    def passed_args(self) -> dict[str, Any]:
        """The arguments the tool gets: the checked ones, as the input scan left them."""
        return self.decision.passed_args(self.args)

    def passed_over(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` (the framework's arguments) as the tool gets them: every checked argument
        replaced by ``passed_args``, so a key the scan masked is not passed on beside its
        masked form; what the framework injected and proctor never checked stays as it was."""
        checked = self.args
        kept = {key: value for key, value in given.items() if key not in checked}
        return {**kept, **self.passed_args}

    def passed_call(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """A positional and keyword call (read by ``call_arguments``) as the tool gets it."""
        if not self.masked:
            return args, dict(kwargs)
        passed = self.passed_args
        if not args:
            return (), passed
        value = passed.pop("input")
        return ((value,) if len(args) == 1 else tuple(value)), passed

    def with_decision(self, decision: Decision) -> CheckedCall:
        return CheckedCall(self.tool, self.args, decision, self.session)


@dataclass(frozen=True, slots=True)
class ReviewedOutput:
    """A tool's result after the output review: ``value`` is what the model may see."""

    value: Any
    changed: bool
    refused: bool


class FrameworkGate:
    """An agent framework's tool calls checked by name; refusals phrased for the model.

    (The MCP proxy's gate is ``proctor.mcp.gate.ToolGate``; both name tools
    through ``proctor.sdk.tools``.)

    ``server`` is the MCP server the tools are (or would be) served by: a tool's
    action is ``call:<server>/<tool>`` unless ``actions`` maps its name to
    another. ``annotations`` maps a tool name to its MCP annotations
    (``{"readOnlyHint": True}``); a tool without them gets the worst case of
    every hint, as through the proxy. ``session`` is used when given, else the
    one entered with ``with proctor.session(...)`` in this thread or task.
    Without either, every call is refused (``code: no_session``).
    """

    def __init__(
        self,
        *,
        server: str,
        actions: Mapping[str, str] | None = None,
        annotations: Mapping[str, Mapping[str, Any]] | None = None,
        session: Session | None = None,
        on_block: OnBlock = "message",
        listed_only: bool = False,
    ) -> None:
        if on_block not in ON_BLOCK_CHOICES:
            raise ValueError(f"on_block must be `message` or `raise`, not `{on_block}`")
        if not isinstance(server, str) or not server or "/" in server:
            raise ValueError(f"server must be a name without `/`, not `{server}`")
        self.server = server
        self.actions = dict(actions or {})
        # hints that are not a mapping count as none: the worst case of each, as the proxy reads
        self.annotations = {
            name: dict(hints)
            for name, hints in (annotations or {}).items()
            if isinstance(hints, Mapping)
        }
        self.session = session
        self.on_block = on_block
        # An MCP client's gate: a tool its server never listed gets the proxy's worst case.
        self.listed_only = listed_only

    def with_session(self, session: Session) -> FrameworkGate:
        """This gate, checking in ``session`` (a run context's session, say)."""
        return FrameworkGate(
            server=self.server,
            actions=self.actions,
            annotations=self.annotations,
            session=session,
            on_block=self.on_block,
            listed_only=self.listed_only,
        )

    def learn(self, tool_name: str, annotations: Any) -> None:
        """Record a tool's annotations as its server listed them (an MCP client's list)."""
        if isinstance(annotations, Mapping):
            self.annotations[tool_name] = dict(annotations)

    def tool(self, tool_name: str) -> ToolInfo:
        action = self.actions.get(tool_name)
        if self.listed_only and tool_name not in self.annotations:
            return unlisted_tool(self.server, tool_name, action=action)
        return describe_tool(
            self.server,
            tool_name,
            self.annotations.get(tool_name),
            action=action,
        )

    def action_for(self, tool_name: str) -> str:
        return self.tool(tool_name).action

    def check(self, tool_name: str, args: Mapping[str, Any] | None) -> CheckedCall:
        tool = self.tool(tool_name)
        arguments = dict(args or {})
        active = self.session or current_session()
        if active is None:
            return CheckedCall(tool, arguments, no_session(tool.action), None)
        try:
            decision = active.check(tool.action, args=arguments, context=tool.context())
        except Exception as exc:  # a call that cannot be checked is not made
            log.exception("could not check `%s`", tool.action)
            decision = Decision(
                Effect.DENY,
                f"the call could not be checked ({type(exc).__name__}), so it was not made",
                code="check_failed",
            )
        return CheckedCall(tool, arguments, decision, active)

    def check_json(self, tool_name: str, arguments: str | None) -> CheckedCall:
        """``check`` for frameworks that hand over the model's arguments as JSON text."""
        try:
            parsed = json.loads(arguments) if arguments else {}
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            decision = Decision(
                Effect.DENY,
                f"the arguments of `{tool_name}` are not a JSON object",
                code="invalid_arguments",
            )
            active = self.session or current_session()
            return CheckedCall(self.tool(tool_name), {}, decision, active)
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
            review = review_result(
                call.session, call.action, call.tool.source, call.decision, result
            )
        except Exception as exc:  # a result that cannot be reviewed is withheld, never passed
            log.exception("could not review the result of `%s`", call.action)
            unreviewed = Decision(
                Effect.DENY,
                f"the result could not be reviewed ({type(exc).__name__}), so it is withheld",
                decision_id=call.decision.decision_id,
                code="output_unreviewed",
            )
            held = call.with_decision(unreviewed)
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
            held = call.with_decision(withheld)
            return ReviewedOutput(self.refuse(held, output=True), changed=True, refused=True)
        changed = review.redacted or review.value is not result
        return ReviewedOutput(review.value, changed=changed, refused=False)


T = TypeVar("T")


class AwaitingResults(Generic[T]):
    """Checked calls by call id until their result comes (a framework's after-hook reviews it);
    bounded, since a cancelled run's calls never get one."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._calls: OrderedDict[str, T] = OrderedDict()

    def put(self, call_id: str, value: T) -> None:
        self._calls.pop(call_id, None)  # a reused id never inherits an earlier call's record
        self._calls[call_id] = value
        while len(self._calls) > self.limit:
            self._calls.popitem(last=False)

    def pop(self, call_id: str) -> T | None:
        return self._calls.pop(call_id, None)


def call_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A framework's positional and keyword call as the arguments checked: a positional input
    (a query engine's, a one-string tool's) is the argument ``input``."""
    if not args:
        return dict(kwargs)
    return {**kwargs, "input": args[0] if len(args) == 1 else list(args)}


def unchecked_result(gate: FrameworkGate, tool_name: str) -> str:
    """The refusal in place of a result whose call proctor never checked (another hook ran it,
    or a call id was reused): such a result is never passed on."""
    decision = Decision(
        Effect.DENY, "the call was not checked by proctor before it ran", code="unchecked_call"
    )
    call = CheckedCall(gate.tool(tool_name), {}, decision, gate.session)
    return gate.refuse(call, output=True)


def one_tool_gate(
    name: str,
    *,
    action: str | None = None,
    annotations: Mapping[str, Any] | None = None,
    **options: Any,
) -> FrameworkGate:
    """The gate of one tool ``name``: checked as ``action``, described by ``annotations``."""
    return FrameworkGate(
        actions={name: action} if action else None,
        annotations={name: annotations} if annotations is not None else None,
        **options,
    )


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


def listed_annotations(listed_tool: Any) -> dict[str, Any] | None:
    """An MCP ``Tool``'s annotations as its server listed them (``{}`` for none); ``None``
    when ``listed_tool`` is not an MCP server's tool (a framework's wrapper had none)."""
    if listed_tool is None:
        return None
    annotations = getattr(listed_tool, "annotations", None)
    if annotations is None:
        return {}
    dump = getattr(annotations, "model_dump", None)
    return dump(by_alias=True, exclude_none=True) if callable(dump) else None


def missing_extra(module: str, framework: str, extra: str, cause: ImportError) -> ImportError:
    """The ImportError raised when a framework adapter is imported without its extra."""
    error = ImportError(
        f"`{module}` needs {framework}, an optional extra: pip install 'proctor[{extra}]' ({cause})"
    )
    error.__cause__ = cause
    return error


__all__ = [
    "AwaitingResults",
    "CheckedCall",
    "FrameworkGate",
    "GateOptions",
    "OnBlock",
    "ReviewedOutput",
    "ToolCallBlocked",
    "ToolInfo",
    "ToolOptions",
    "approval_id",
    "call_arguments",
    "listed_annotations",
    "missing_extra",
    "one_tool_gate",
    "refusal_message",
    "unchecked_result",
]
