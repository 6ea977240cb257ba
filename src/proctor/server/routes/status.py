"""``GET /v1/status``: every live process on the store and the policy version each decides with.

The same report as ``proctor status`` (``policy_versions.status_report``):
the active version, and for each process whose heartbeat is recent its id,
role (gateway, SDK, proxy), version and digest, state, last heartbeat and
lag (how long it has run another set than the active one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.runtime.following import StoreFollower, follower_of
from proctor.runtime.policy_versions import status_report
from proctor.server.auth import AUDIT_READ, require
from proctor.server.state import caller
from proctor.storage.contracts import ProcessBeat

_LIVE_FLOOR_SECONDS = 5.0


def live_seconds(follower: StoreFollower) -> float:
    """How recent a heartbeat must be for its process to count as live."""
    return max(3 * follower.settings.heartbeat_seconds, _LIVE_FLOOR_SECONDS)


def report(follower: StoreFollower) -> dict[str, Any]:
    now = time.time()
    return {
        "process": follower.describe(now).to_dict(),
        **status_report(follower.store, now, live_seconds=live_seconds(follower)),
    }


async def status(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    follower = follower_of(state.runtime)
    if follower is None:  # a gateway on a memory store: nothing is shared
        policies = state.runtime.policies
        return JSONResponse(
            {
                "process": {"role": "gateway", "policy_digest": policies.digest},
                "active": None,
                "processes": [],
                "versions_in_use": [policies.digest],
            }
        )
    return JSONResponse(await to_thread.run_sync(report, follower))


routes = [Route("/v1/status", status, methods=["GET"])]


def live_processes(follower: StoreFollower) -> Callable[[], list[ProcessBeat]]:
    """The live processes, read when asked (the metrics' scrape)."""
    return lambda: follower.store.processes(time.time() - live_seconds(follower))
