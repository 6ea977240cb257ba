"""``Proctor``: the in-process SDK over the runtime."""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from proctor.clock import Clock, system_clock
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.decision import Decision
from proctor.model.request import Agent, User
from proctor.model.tiers import Tier
from proctor.runtime import (
    AgentLike,
    CallFields,
    CheckCall,
    OutputFields,
    Runtime,
)
from proctor.runtime.approvals import ApprovalDesk
from proctor.runtime.scanning import OutputReview
from proctor.sdk.runs import RunSession
from proctor.sdk.session import OpensSessions, RunFields

if TYPE_CHECKING:  # token exchange loads PyJWT and cryptography: only when it is used
    from proctor.identity.exchange import TokenExchangeResponse
    from proctor.telemetry import DecisionTracer

_open: weakref.WeakSet[Proctor] = weakref.WeakSet()


def _tracer(provider: Any) -> DecisionTracer | None:
    """Spans through ``provider`` (an OpenTelemetry tracer provider), when one is given."""
    if provider is None:
        return None
    from proctor.telemetry import DecisionTracer  # imported here: it loads pydantic

    return DecisionTracer.from_provider(provider)


class Proctor(OpensSessions):
    """Decide on tool calls in this process and record every decision.

    ``Proctor.from_config("proctor.yaml")`` for a configured deployment, or
    ``Proctor.from_policies("policy.yaml", agents=[...])`` for a quick start.
    Either takes ``tracer_provider=``, the application's OpenTelemetry
    ``TracerProvider``, to put the decision spans there (it stays the caller's
    to flush and shut down).
    Close it (or use ``with``) to flush the audit trail; it is also flushed
    when the interpreter exits.
    """

    def __init__(self, runtime: Runtime, *, agent: AgentLike = None) -> None:
        self.runtime = runtime
        self.agent = agent
        self._closed = False
        self._approvals: ApprovalDesk | None = None
        _open.add(self)

    @classmethod
    def from_config(
        cls,
        path: str | Path | None = None,
        *,
        agent: AgentLike = None,
        audit: str | None = None,
        clock: Clock = system_clock,
        tracer_provider: Any = None,
        policies_from_store: bool | None = None,
    ) -> Proctor:
        """``path`` defaults to ``proctor.yaml``; ``policies_from_store`` (default: the
        config's ``storage.policies``): decide with the store's active policy version,
        following it as it changes."""
        # imported here: the config models (pydantic) load only for a process that builds one
        from proctor.config import DEFAULT_CONFIG_NAME
        from proctor.runtime.build import build_runtime

        # the given provider wins over `telemetry:`
        tracer = _tracer(tracer_provider)
        runtime = build_runtime(
            DEFAULT_CONFIG_NAME if path is None else path,
            audit=audit,
            clock=clock,
            tracer=tracer,
            role="sdk",
            policies_from_store=policies_from_store,
        )
        return cls(runtime, agent=agent)

    @classmethod
    def from_policies(
        cls,
        *paths: str | Path,
        texts: tuple[str, ...] = (),
        agents: list[Agent] | None = None,
        roles: Mapping[str, list[str]] | None = None,
        agent: AgentLike = None,
        audit: str = ":memory:",
        clock: Clock = system_clock,
        timezone: str = "UTC",
        tracer_provider: Any = None,
        policies_from_store: bool = False,
    ) -> Proctor:
        from proctor.runtime.build import build_runtime  # the wiring loads when a Proctor is built

        registry = AgentRegistry(
            {item.id: item for item in agents or []},
            {name: ScopeSet.parse(scopes) for name, scopes in (roles or {}).items()},
        )
        runtime = build_runtime(
            policies=paths,
            policy_texts=texts,
            audit=audit,
            registry=registry,
            clock=clock,
            timezone=timezone,
            tracer=_tracer(tracer_provider),
            role="sdk",
            policies_from_store=policies_from_store,
        )
        if agent is None and agents and len(agents) == 1:
            agent = agents[0].id
        return cls(runtime, agent=agent)

    def check(self, action: str, **fields: Unpack[CallFields]) -> Decision:
        """Decide whether ``agent`` may do ``action`` for ``user`` with ``args``, now.

        With ``token`` (a delegation token from ``exchange``), the user, the
        agent and the scopes come from the verified token; a bad token is a
        deny with a ``token_*`` code. Never raises for a denied call: read
        ``decision.allowed`` and ``decision.reason``. ``traceparent`` (a W3C
        header value) makes the decision's span a child of the caller's span.
        """
        if fields.get("agent") is None and self.agent is not None:
            fields["agent"] = self.agent  # this client's agent, set before the value is built
        return self.runtime.decide(CheckCall(action, **fields))

    def decide(self, call: CheckCall) -> Decision:
        """``check`` for a ``CheckCall`` built by the caller (this client's agent by default)."""
        if call.agent is None and self.agent is not None:
            call = call._replace(agent=self.agent)
        return self.runtime.decide(call)

    def review_output(
        self, action: str, result: Any, **fields: Unpack[OutputFields]
    ) -> OutputReview:
        """Scan a tool's result (untrusted) under the policies' `scan: output` sections.

        Returns what may go back to the agent: ``review.value`` with redactions
        applied, or nothing when withheld (``review.allowed`` is false). In a
        run, the result's values are remembered as untrusted for provenance.
        """
        if fields.get("agent") is None and self.agent is not None:
            fields["agent"] = self.agent
        return self.runtime.review_output(action, result, **fields)

    def remember_task(self, run_id: str, content: Any) -> None:
        """What the user asked in run ``run_id``; values in it are never tainted there."""
        self.runtime.remember_task(run_id, content)

    def exchange(
        self,
        *,
        subject_token: str,
        actor: str | None = None,
        actor_token: str | None = None,
        actor_token_type: str | None = None,
        scope: str | Sequence[str] = (),
        audience: str | None = None,
        run_id: str | None = None,
    ) -> TokenExchangeResponse:
        """RFC 8693 token exchange in-process: the user's token for a delegation token.

        ``actor`` names the agent (this process is trusted to say which agent
        it runs); ``actor_token`` proves it instead (an API key or a signed
        client assertion). Raises ``ExchangeError`` when refused: its
        ``error`` is the §2.2.2 value (``invalid_scope``, ``invalid_request``...).
        """
        from proctor.identity.credentials import API_KEY_PREFIX
        from proctor.identity.exchange import (
            API_KEY_TOKEN_TYPE,
            JWT_TOKEN_TYPE,
            TokenExchangeRequest,
        )

        scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(scope)
        if actor_token is not None and actor_token_type is None:
            actor_token_type = (
                API_KEY_TOKEN_TYPE if actor_token.startswith(API_KEY_PREFIX) else JWT_TOKEN_TYPE
            )
        request = TokenExchangeRequest(
            subject_token=subject_token,
            actor_token=actor_token,
            actor_token_type=actor_token_type,
            scope=scopes,
            audience=(audience,) if audience else (),
            run_id=run_id,
        )
        if actor is None and actor_token is None and isinstance(self.agent, str):
            actor = self.agent
        return self.runtime.exchange(request, actor=actor).response

    def run(self, run_id: str, **fields: Unpack[RunFields]) -> RunSession:
        """A session bound to run ``run_id``: ``with guard.run("task-7", user="alice"):``.

        ``task`` is what the user asked (text or a tree of values): values in it
        are trusted in this run, so arguments carrying them are never tainted.
        """
        if fields.get("agent") is None:
            fields["agent"] = self.agent
        return RunSession(self, run_id=run_id, **fields)

    @property
    def approvals(self) -> ApprovalDesk:
        """List, approve, reject and wait for approvals (see ``ApprovalDesk``)."""
        if self._approvals is None:
            self._approvals = ApprovalDesk(self.runtime)
        return self._approvals

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.runtime.close()

    def __enter__(self) -> Proctor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@atexit.register
def _close_open_instances() -> None:
    for instance in list(_open):
        instance.close()


def make_agent(
    agent_id: str, *, role: str | None = None, tier: str = "unverified", tags: tuple[str, ...] = ()
) -> Agent:
    """An ``Agent`` value for ``Proctor.from_policies``."""
    return Agent(agent_id, role, Tier.parse(tier), frozenset(tags))


def make_user(sub: str, *, scopes: tuple[str, ...] = (), **claims: Any) -> User:
    return User(sub, scopes, claims)
