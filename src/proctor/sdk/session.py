"""A session binds a check to one agent, user and run; the current one travels in a contextvar."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack, cast

from proctor.errors import ProctorError
from proctor.model.decision import Decision
from proctor.model.request import RunState
from proctor.runtime import AgentLike, CheckCall, OutputFields, UserLike

if TYPE_CHECKING:
    from proctor.runtime.scanning import OutputReview  # annotation only: no scanners on import


class RunFields(TypedDict, total=False):
    """What a run binds besides its id (``Proctor.run``).

    The agent and the user of every check; the trace id its records carry;
    ``context`` merged into each check's; ``task``, what the user asked (its
    values are never tainted in the run).
    """

    agent: AgentLike
    user: UserLike
    trace_id: str | None
    context: Mapping[str, Any] | None
    task: Any


class SessionFields(RunFields, total=False):
    """What ``session(...)`` binds: a run's fields, the run id and a delegation token."""

    run_id: str | None
    token: str | None


class Checker(Protocol):
    """What a session checks through: ``Proctor`` in-process (a remote client later)."""

    def decide(self, call: CheckCall) -> Decision: ...

    def review_output(
        self, action: str, result: Any, **fields: Unpack[OutputFields]
    ) -> OutputReview: ...

    def remember_task(self, run_id: str, content: Any) -> None: ...


_current: ContextVar[Session | None] = ContextVar("proctor_session", default=None)


def current_session() -> Session | None:
    """The session entered in this thread or task, if any."""
    return _current.get()


class Session:
    """``check`` with the agent, user and run already bound.

    Use it as a context manager so that ``@governed_tool`` functions called
    inside pick it up without extra parameters::

        with proctor.session(agent="support-bot", user="alice"):
            process_refund(order_id="A1", amount=40)
    """

    def __init__(self, proctor: Checker, **fields: Unpack[SessionFields]) -> None:
        self.proctor = proctor
        self.agent: AgentLike = fields.get("agent")
        self.user: UserLike = fields.get("user")
        self.run_id = fields.get("run_id")
        self.trace_id = fields.get("trace_id")
        self.token = fields.get("token")
        self.context = dict(fields.get("context") or {})
        self._tokens: list[Token[Session | None]] = []
        task = fields.get("task")
        if task is not None:
            self.remember_task(task)

    def _run(self) -> RunState | None:
        return RunState(self.run_id) if self.run_id else None

    def check(
        self,
        action: str,
        *,
        args: Mapping[str, Any] | None = None,
        resource: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        merged = {**self.context, **context} if context else self.context
        call = CheckCall(
            action,
            agent=self.agent,
            user=self.user,
            args=args,
            resource=resource,
            context=merged,
            run=self._run(),
            trace_id=self.trace_id,
            token=self.token,
        )
        return self.proctor.decide(call)

    def record_output(
        self,
        action: str,
        result: Any,
        *,
        decision: Decision | None = None,
        tool: str | None = None,
        record: bool = False,
    ) -> OutputReview:
        """Hand a tool's result to proctor: scanned, redacted or withheld, remembered as untrusted.

        ``@governed_tool`` does this with the function's return value; call it for
        results that reach the agent another way. Use ``review.value``.
        """
        return self.proctor.review_output(
            action,
            result,
            call_id=decision.decision_id if decision is not None else None,
            agent=self.agent,
            user=self.user,
            run=self._run(),
            tool=tool,
            trace_id=self.trace_id,
            token=self.token,
            record=record,
        )

    def remember_task(self, content: Any) -> None:
        """What the user asked in this run: values in it are never tainted (needs a run id)."""
        if self.run_id is None:
            raise ProctorError(
                "a task is remembered per run: give the session a `run_id`", code="no_run"
            )
        self.proctor.remember_task(self.run_id, content)

    def __enter__(self) -> Session:
        self._tokens.append(_current.set(self))
        return self

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._tokens.pop())


class OpensSessions:
    """``session(...)``: a ``Session`` over this checker, for ``Proctor`` and ``ProctorClient``."""

    agent: AgentLike

    def session(self, **fields: Unpack[SessionFields]) -> Session:
        """Bind agent, user and run; ``task`` (what the user asked) needs a ``run_id``."""
        if fields.get("agent") is None:
            fields["agent"] = self.agent
        return Session(cast(Checker, self), **fields)
