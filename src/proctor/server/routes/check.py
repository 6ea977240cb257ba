"""``POST /v1/check`` and ``POST /v1/check/batch``: the SDK's check over HTTP."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proctor.model.decision import Decision
from proctor.server.bodies import BatchBody, CheckBody, read_json
from proctor.server.checks import bind, decide_once, traceparent_of
from proctor.server.responses import FastJSONResponse
from proctor.server.state import caller

WIRE_VERSION = 1


async def check(request: Request) -> Response:
    state, principal = caller(request)
    body = bind(state, principal, await read_json(request, CheckBody))
    decision = await decide_once(state, principal, body, traceparent_of(request))
    return FastJSONResponse(wire(decision))


async def check_batch(request: Request) -> Response:
    """Each check decided (and recorded) in order; one response with every decision."""
    state, principal = caller(request)
    batch = await read_json(request, BatchBody)
    bound = [bind(state, principal, item) for item in batch.checks]
    traceparent = traceparent_of(request)
    decisions = [
        (await decide_once(state, principal, item, traceparent)).to_dict() for item in bound
    ]
    return FastJSONResponse({"version": WIRE_VERSION, "decisions": decisions})


def wire(decision: Decision) -> dict[str, Any]:
    """A decision as ``POST /v1/check`` answers it (here and in ``plain_check``)."""
    return {"version": WIRE_VERSION, **decision.to_dict()}


routes = [
    Route("/v1/check", check, methods=["POST"]),
    Route("/v1/check/batch", check_batch, methods=["POST"]),
]
