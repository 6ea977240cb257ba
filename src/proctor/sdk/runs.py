"""``with proctor.run(run_id=...)``: a session bound to one agent task, started and ended.

Entering starts the run in the store (its ceilings count from then) and writes
a ``run`` record with effect ``start``; leaving ends it (later calls in the run
are denied) and writes one with effect ``end``. Calls inside carry the run id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, Unpack

from proctor.limits.runs import RunRecord
from proctor.model.request import Agent, User
from proctor.sdk.session import Checker, RunFields, Session

if TYPE_CHECKING:
    from proctor.runtime import Runtime


class RuntimeOwner(Checker, Protocol):
    """What a run needs of its owner: checks, and the runtime's state and audit."""

    runtime: Runtime


class RunSession(Session):
    """A ``Session`` whose ``run_id`` names a run with a start and an end in the audit."""

    def __init__(self, proctor: RuntimeOwner, *, run_id: str, **fields: Unpack[RunFields]) -> None:
        super().__init__(proctor, run_id=run_id, **fields)
        self._owner = proctor
        self.record: RunRecord | None = None

    @property
    def _agent_id(self) -> str | None:
        agent = self.agent
        if isinstance(agent, Agent):
            return agent.id
        return agent if agent is not None else self._owner.runtime.default_agent

    @property
    def _user_sub(self) -> str | None:
        user = self.user
        if isinstance(user, User):
            return user.sub
        if isinstance(user, Mapping):
            return str(user.get("sub", ""))
        return user

    def start(self) -> RunRecord:
        runtime = self._owner.runtime
        assert self.run_id is not None
        self.record = runtime.state.runs.start(
            self.run_id, runtime.clock(), agent=self._agent_id or "-", user=self._user_sub
        )
        self._record("start", "started")
        return self.record

    def end(self) -> RunRecord:
        runtime = self._owner.runtime
        assert self.run_id is not None
        self.record = runtime.state.runs.end(self.run_id, runtime.clock())
        self._record("end", "ended")
        return self.record

    def _record(self, event: str, past: str) -> None:
        """The run's ``run:<event>`` audit record (``run `id` <past>``)."""
        self._owner.runtime.record(
            "run",
            action=f"run:{event}",
            effect=event,
            reason=f"run `{self.run_id}` {past}",
            agent=self._agent_id,
            user=self._user_sub,
            run_id=self.run_id,
        )

    def __enter__(self) -> RunSession:
        self.start()
        super().__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        self.end()
