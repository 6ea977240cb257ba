"""Who a run belongs to: the agent and user of the first call, result or task that names it.

A run id is only a name the caller picks, so without an owner any credential
could act in another's run: mark values of it as the user's own task, spend
its ceilings, or feed its provenance. The first use of a run id claims it in
the run store (``RunStore.start`` inserts once and returns the first record
ever after), so every process and replica sharing the state database agrees
on the owner. Owners never change, so a process keeps those it has seen.

A run claimed without a user (an agent's own run, or a task sent with an
agent key) belongs to its agent; one claimed for a user belongs to that agent
acting for that user, and a call in it for anybody else is refused. An agent
acting on a delegation token acts in the runs of the agents that delegated to
it (the token's ``act`` chain), for the same user. A token's own ``run_id`` is
no grant: the agent that asked for the token chose it.
"""

from __future__ import annotations

import threading
from datetime import datetime

from proctor.limits.runs import RunRecord
from proctor.storage.contracts import RunStore

RUN_NOT_OWNED = "run_not_owned"
RUN_MISMATCH = "run_mismatch"
_KNOWN_LIMIT = 4096


class RunOwners:
    """Claims runs for their first caller and names what refuses a later one."""

    def __init__(self, runs: RunStore) -> None:
        self._runs = runs
        self._known: dict[str, RunRecord] = {}
        self._lock = threading.Lock()

    def claim(
        self,
        run_id: str,
        agent: str,
        user: str | None,
        now: datetime,
        *,
        any_user: bool = False,
        delegators: tuple[str, ...] = (),
    ) -> str | None:
        """Why ``agent`` (for ``user``) may not act in ``run_id``, or None when it may.

        ``any_user``: only the agent is compared (a task sent with an agent key,
        which names no user). ``delegators``: the agents that delegated to
        ``agent`` (a token's chain). Raises ``StorageError`` when the store fails.
        """
        record = self._known.get(run_id)
        if record is None:
            record = self._runs.get(run_id) or self._runs.start(run_id, now, agent=agent, user=user)
            with self._lock:
                if len(self._known) >= _KNOWN_LIMIT:
                    self._known.clear()
                self._known[run_id] = record
        return refusal(record, agent, user, any_user=any_user, delegators=delegators)

    def started_at(self, run_id: str) -> datetime | None:
        """When ``run_id`` started, once it was claimed in this process (else None)."""
        record = self._known.get(run_id)
        return record.started_at if record is not None else None


def refusal(
    record: RunRecord,
    agent: str,
    user: str | None,
    *,
    any_user: bool = False,
    delegators: tuple[str, ...] = (),
) -> str | None:
    """The reason ``agent`` and ``user`` are not the run's owner (None when they are).

    The owner is not named: a caller probing run ids learns nothing about whose
    they are.
    """
    if record.agent != agent and record.agent not in delegators:
        return f"run `{record.run_id}` was started by another agent"
    if not any_user and record.user is not None and record.user != user:
        return f"run `{record.run_id}` was started for another user"
    return None
