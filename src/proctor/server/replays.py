"""Checks keyed by a client-chosen ``request_id``: decided and recorded once, retries alike.

A client whose connection is reset before any answer cannot know whether its
check was decided. With a ``request_id`` it may send it again: the check's
decision id is derived from the caller, the key and the whole body, so a
retry finds the first decision, in flight in this process or recorded by any
process on the store, and gets the same answer; nothing is charged or
recorded twice. The same key with another body is another check.

A retry comes soon after its first try. Past ``REPLAY_WINDOW`` seconds a repeat
of an allow (or a hold) is a deny ``request_replayed``: the first answer was
heard, and answering it again would let the call run again uncounted, an
approval used up once included.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from anyio import to_thread

from proctor.model.decision import Decision, Effect
from proctor.server.auth import Principal
from proctor.server.bodies import CheckBody
from proctor.storage.contracts import AuditStore

REQUEST_REPLAYED = "request_replayed"
REPLAY_WINDOW = 300.0  # seconds after a decision in which its request id is a retry


def keyed_decision_id(principal: Principal, body: CheckBody) -> str:
    """The decision id of ``body`` for ``principal``: the same for a retry, for no one else."""
    material = [principal.kind, principal.name, body.model_dump(mode="json")]
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return f"req-{digest[:40]}"


class RequestReplays:
    """Keyed checks in flight in this process, so a retry waits for the first one's answer."""

    def __init__(self, audit: AuditStore, clock: Callable[[], datetime]) -> None:
        self._audit = audit
        self._clock = clock
        self._flying: dict[str, asyncio.Future[Decision]] = {}

    async def once(self, decision_id: str, decide: Callable[[], Awaitable[Decision]]) -> Decision:
        flying = self._flying.get(decision_id)
        if flying is not None:
            return await asyncio.shield(flying)
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._flying[decision_id] = future
        try:
            record = await to_thread.run_sync(self._audit.get, decision_id)
            if record is None:
                decision = await decide()
            else:
                decision = replayed(record, self._clock())
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: only retries waiting on it see it
            raise
        finally:
            del self._flying[decision_id]
        future.set_result(decision)
        return decision


def replayed(record: Mapping[str, Any], now: datetime) -> Decision:
    """The recorded decision as it was answered.

    An allow whose record holds findings may have been answered with redacted
    arguments the record does not keep, and one decided more than
    ``REPLAY_WINDOW`` seconds before ``now`` is no retry: neither is handed
    back as an allow.
    """
    effect = Effect(record["effect"])
    if effect is not Effect.DENY:
        if (record.get("extra") or {}).get("findings"):
            return _refused(record, "with findings a retry cannot repeat")
        if _age(record, now) > REPLAY_WINDOW:
            return _refused(
                record, f"{REPLAY_WINDOW:.0f} s ago or more: a retry comes sooner (use a new id)"
            )
    return Decision(
        effect,
        str(record.get("reason", "")),
        tuple(record.get("rule_ids") or ()),
        str(record["decision_id"]),
        tuple(record.get("effective_scopes") or ()),
        code=str(record.get("code") or ""),
    )


def _refused(record: Mapping[str, Any], why: str) -> Decision:
    return Decision(
        Effect.DENY,
        f"denied: this request id was decided already, {why}",
        decision_id=str(record["decision_id"]),
        code=REQUEST_REPLAYED,
    )


def _age(record: Mapping[str, Any], now: datetime) -> float:
    """Seconds from the record's ``ts`` to ``now`` (infinite when it has no readable time)."""
    try:
        return (now - datetime.fromisoformat(str(record["ts"]))).total_seconds()
    except (KeyError, ValueError, TypeError):
        return float("inf")
