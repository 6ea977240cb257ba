"""``ToolGate``: an MCP tool call as a proctor check, and ``tools/list`` as the caller may see it.

A tool's action is ``call:<server>/<tool>`` unless the config names another
(``git_reset: delete:repo``); reading a resource is ``read:<server>/resource``
(the URI is the check's ``resource``) and getting a prompt
``get:<server>/prompt`` (the prompt's name is the ``resource``). Its annotations reach the policy as
``context.tool`` (``read_only``, ``destructive``, ``idempotent``,
``open_world``, ``listed``), with the MCP defaults for absent hints: a tool
that says nothing, or that was never listed, counts as not read-only,
destructive and open-world, so rules keyed on the hints fail closed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from proctor.errors import ProctorError
from proctor.identity.scopes import ScopeSet
from proctor.mcp.descriptions import PROMPTS, DescribedTool, DescriptionReview, Listed, Reader
from proctor.mcp.never_allowed import could_be_allowed
from proctor.model.actions import validate_action
from proctor.model.decision import Decision
from proctor.model.request import Agent, RunState
from proctor.runtime.scanning import OutputReview
from proctor.sdk.client import Proctor
from proctor.sdk.session import Session
from proctor.sdk.tools import ToolInfo, describe_tool, review_result, tool_action, unlisted_tool

log = logging.getLogger("proctor.mcp")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls through the proxy: a delegation token, or an agent (and user) by name."""

    agent: str | None = None
    user: str | None = None
    token: str | None = None
    run_id: str | None = None

    def in_run(self) -> Caller:
        """This caller with a run of its own unless it named one: one MCP session, one run.

        Provenance works within a run: a value a tool returned, passed to a
        later call of the same session, is tainted.
        """
        if self.run_id is not None:
            return self
        return replace(self, run_id=f"mcp-{uuid.uuid4().hex[:16]}")


class ToolGate:
    """Checks tool calls and filters tool lists for one proxy, over one ``Proctor``."""

    def __init__(
        self, proctor: Proctor, *, actions: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self.proctor = proctor
        self._actions = {server: dict(tools) for server, tools in (actions or {}).items()}
        self._descriptions = DescriptionReview(proctor)

    def action(self, server: str, tool: str) -> str:
        configured = self._actions.get(server, {}).get(tool)
        return configured if configured is not None else tool_action(server, tool)

    def describe(self, server: str, tool: Mapping[str, Any]) -> ToolInfo:
        """A listed tool (a ``Tool`` object of a ``tools/list`` result)."""
        name = str(tool.get("name", ""))
        return describe_tool(
            server, name, tool.get("annotations"), action=self.action(server, name)
        )

    @staticmethod
    def resource_action(server: str) -> str:
        return f"read:{server}/resource"

    @staticmethod
    def prompt_action(server: str) -> str:
        return f"get:{server}/prompt"

    def unlisted(self, server: str, name: str) -> ToolInfo:
        """A tool called without having been listed: the worst case of every hint."""
        return unlisted_tool(server, name, action=self.action(server, name))

    def session(self, caller: Caller) -> Session:
        run_id = caller.run_id
        if caller.token is not None and self._token_run(caller.token) is not None:
            run_id = None  # a token issued for a run keeps it (the runtime reads it)
        return self.proctor.session(
            agent=caller.agent, user=caller.user, run_id=run_id, token=caller.token
        )

    def _token_run(self, token: str) -> str | None:
        identity = self.proctor.runtime.identity
        if identity is None:
            return None
        try:
            return identity.verify(token).run_id
        except ProctorError:
            return None  # the check itself denies a bad token, with its reason

    def check(self, caller: Caller, tool: ToolInfo, arguments: Any) -> Decision:
        args = arguments if isinstance(arguments, Mapping) else {}
        return self.session(caller).check(tool.action, args=args, context=tool.context())

    def check_action(
        self,
        caller: Caller,
        action: str,
        *,
        args: Mapping[str, Any],
        resource: str | None,
        context: Mapping[str, Any],
    ) -> Decision:
        """A request other than a tool call (a resource read, a prompt), as a check."""
        return self.session(caller).check(action, args=args, resource=resource, context=context)

    def refuse(
        self,
        caller: Caller,
        action: str,
        *,
        code: str,
        reason: str,
        args: Any = None,
        resource: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Record a request the proxy refuses whatever the policies say (a deny, audited)."""
        session = self.session(caller)
        return self.proctor.runtime.check(
            action,
            agent=session.agent,
            user=session.user,
            args=args if isinstance(args, Mapping) else {},
            resource=resource,
            context=context,
            run=RunState(session.run_id) if session.run_id else None,
            token=session.token,
            refused=(code, reason),
        )

    def visible(self, caller: Caller, tools: list[ToolInfo]) -> list[bool]:
        """For each tool, whether the caller could ever be allowed to call it."""
        principal = self._principal(caller)
        if principal is None:
            return [False] * len(tools)
        agent, scopes = principal
        runtime = self.proctor.runtime
        policies, now = runtime.policies, runtime.clock()
        return [
            validate_action(tool.action) is None
            and could_be_allowed(policies, tool.action, agent, scopes, tool.context(), now)
            for tool in tools
        ]

    def review_descriptions(
        self, caller: Caller, tools: Sequence[Mapping[str, Any]], infos: Sequence[ToolInfo]
    ) -> list[DescribedTool]:
        """Each listed tool as the caller's model may read it (``proctor.mcp.descriptions``)."""
        principal = self._principal(caller)
        if principal is None:  # no tool is listed to a caller that cannot be resolved
            return [DescribedTool(tool, withheld=True, reason="unknown caller") for tool in tools]
        reader = Reader(principal[0], caller.user, caller.run_id)
        review = self._descriptions.review
        return [review(tool, info, reader) for tool, info in zip(tools, infos, strict=True)]

    def review_listed(
        self, caller: Caller, server: str, listed: Listed, items: Sequence[Mapping[str, Any]]
    ) -> list[DescribedTool]:
        """Each prompt, resource or resource template of a list as the caller's model may
        read it, reviewed by the plan of the action that gets or reads it."""
        if not self.proctor.runtime.policies.scanning.has_output:
            return [DescribedTool(item) for item in items]  # no scan: no caller to resolve
        principal = self._principal(caller)
        if principal is None:
            return [DescribedTool(item, withheld=True, reason="unknown caller") for item in items]
        reader = Reader(principal[0], caller.user, caller.run_id)
        action = self.prompt_action(server) if listed is PROMPTS else self.resource_action(server)
        review = self._descriptions.review_item
        return [review(listed, item, server, action, reader) for item in items]

    def review_message(
        self, caller: Caller, server: str, method: str, params: Mapping[str, Any]
    ) -> DescribedTool:
        """A server's message to the client (``SERVER_MESSAGES``) as the caller may read it."""
        if not self.proctor.runtime.policies.scanning.has_output:
            return DescribedTool(params)  # nothing asks for a scan: no caller to resolve
        principal = self._principal(caller)
        if principal is None:
            return DescribedTool(params, withheld=True, reason="the caller cannot be resolved")
        reader = Reader(principal[0], caller.user, caller.run_id)
        return self._descriptions.review_message(method, params, server, reader)

    def review_result(
        self, caller: Caller, action: str, source: str, decision: Decision, result: Any
    ) -> OutputReview:
        """``proctor.sdk.tools.review_result`` in the caller's session (the adapters' too)."""
        return review_result(self.session(caller), action, source, decision, result)

    # -- the caller as an agent with scopes -----------------------------------------------

    def _principal(self, caller: Caller) -> tuple[Agent, ScopeSet] | None:
        """The agent at the tier a check would see (a ``tiers:`` demotion applies) and its
        scopes: the runtime's own resolver, so a list cannot show what a call is denied."""
        runtime = self.proctor.runtime
        agent = caller.agent if caller.token is not None else caller.agent or self._default()
        try:
            found = runtime.callers.principal_for(agent, caller.user, caller.token, runtime.clock())
        except ProctorError as exc:  # e.g. the keys cannot be read: list nothing
            log.warning("the caller cannot be resolved (%s): no tool is listed", exc)
            return None
        if found is None and caller.token is not None:
            log.warning("the caller's token does not pass: no tool is listed")
        return found

    def _default(self) -> Agent | str | None:
        """The proxy's own agent (``Proctor(agent=...)``), else the runtime's default."""
        agent = self.proctor.agent
        return agent if agent is not None else self.proctor.runtime.default_agent
