"""A tool as policy sees it, wherever it is called from: the MCP proxy or a framework adapter.

One tool has one action and one set of hints whichever door it comes through,
so one policy governs it: ``call:<server>/<tool>`` unless configured otherwise,
and its MCP annotations as ``context.tool`` (``read_only``, ``destructive``,
``idempotent``, ``open_world``, ``listed``), with the MCP defaults for absent
hints: a tool that says nothing counts as not read-only, destructive and
open-world, so rules keyed on the hints fail closed. Its results are reviewed
the same way too (``review_result``): scanned, redacted or withheld, recorded,
and remembered as untrusted output of ``<server>/<tool>`` for provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proctor.model.decision import Decision
from proctor.sdk.session import Session

if TYPE_CHECKING:
    from proctor.runtime.scanning import OutputReview  # annotation only: no scanners on import


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """One tool as policy sees it."""

    server: str
    name: str
    action: str
    read_only: bool = False
    destructive: bool = True
    idempotent: bool = False
    open_world: bool = True
    listed: bool = False

    @property
    def source(self) -> str:
        """Where its results come from, for provenance (``taint.<arg>.tool``)."""
        return f"{self.server}/{self.name}"

    def context(self) -> dict[str, Any]:
        return {
            "tool": {
                "name": self.name,
                "server": self.server,
                "read_only": self.read_only,
                "destructive": self.destructive,
                "idempotent": self.idempotent,
                "open_world": self.open_world,
                "listed": self.listed,
            }
        }


def tool_action(server: str, tool: str) -> str:
    """The action of a tool no configuration names: ``call:<server>/<tool>``."""
    return f"call:{server}/{tool}"


def describe_tool(
    server: str, name: str, annotations: Any, *, action: str | None = None
) -> ToolInfo:
    """A listed tool, with its MCP ``annotations`` (``readOnlyHint``, ...) read as policy does.

    Anything but a mapping of hints counts as no hints: the worst case of each.
    """
    hints = annotations if isinstance(annotations, Mapping) else {}
    read_only = hints.get("readOnlyHint") is True
    return ToolInfo(
        server=server,
        name=name,
        action=action if action is not None else tool_action(server, name),
        read_only=read_only,
        # MCP: destructiveHint (default true) means something only when not read-only
        destructive=not read_only and hints.get("destructiveHint") is not False,
        idempotent=hints.get("idempotentHint") is True,
        open_world=hints.get("openWorldHint") is not False,
        listed=True,
    )


def unlisted_tool(server: str, name: str, *, action: str | None = None) -> ToolInfo:
    """A tool called without having been listed: the worst case of every hint."""
    return ToolInfo(
        server=server, name=name, action=action if action is not None else tool_action(server, name)
    )


def review_result(
    session: Session, action: str, source: str, decision: Decision, result: Any
) -> OutputReview:
    """Hand a result (a tool's, a resource's, a prompt's) to proctor: scanned and recorded.

    Every result is recorded (kind ``output``: its digest and the findings,
    tied to the request's decision), redacted or withheld as the policies'
    ``scan: output`` sections say; in a run its values are remembered as
    untrusted (from ``source``), so a later call that carries one is tainted.
    """
    return session.record_output(action, result, decision=decision, tool=source, record=True)


__all__ = ["ToolInfo", "describe_tool", "review_result", "tool_action", "unlisted_tool"]
