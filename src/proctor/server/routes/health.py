"""``/healthz`` (alive), ``/readyz`` (store writable, policies loaded), ``/metrics``."""

from __future__ import annotations

from anyio import to_thread
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proctor.server.auth import AUDIT_READ, require
from proctor.server.errors import error_response
from proctor.server.state import caller, gateway


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = gateway(request)
    runtime = state.runtime

    def probe() -> str | None:
        if not runtime.audit.healthy:
            failure = runtime.audit.failure
            return f"the audit store cannot write: {failure.message if failure else 'unknown'}"
        try:
            runtime.audit.head()
        except Exception as exc:  # any failure to read the store means not ready
            return f"the audit store is unreachable: {exc}"
        if not runtime.policies.policies:
            return "no policies are loaded: every call would be denied"
        if state.draining:
            return "the server is shutting down"
        return None

    problem = await to_thread.run_sync(probe)
    if problem is not None:
        return error_response(503, problem, code="not_ready")
    return JSONResponse({"status": "ready", "policies": len(runtime.policies.policies)})


async def metrics(request: Request) -> Response:
    state, principal = caller(request)
    require(principal, AUDIT_READ)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
