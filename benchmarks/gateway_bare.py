"""The gateway bench's baseline: a bare Starlette app on ``proctor serve``'s uvicorn settings.

    python -m benchmarks.gateway_bare --port 8701 --workers 2

``POST /v1/check`` reads and parses the same JSON body a check sends and
answers a fixed decision of the size proctor answers; nothing else. It runs
on the settings ``proctor serve`` gives uvicorn (``proctor/server/gateway.py``
and ``workers.py``: no access log, no server header, lifespan on, uvloop when
installed, one socket shared by ``--workers`` processes), so the ratio of the
two is what proctor's work costs over the framework's floor.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXED_DECISION = {
    "version": 1,
    "effect": "allow",
    "allowed": True,
    "reason": "allowed by rule `small-refunds` of policy `bench`",
    "rule_ids": ["small-refunds"],
    "decision_id": "019af0c4-4b1e-7c2a-9d3e-5f6a7b8c9d0e",
    "effective_scopes": ["*"],
    "obligations": [],
    "findings": [],
    "code": None,
}


async def check(request: Request) -> Response:
    body = await request.json()
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    return JSONResponse(FIXED_DECISION)


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/check", check, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn
    from uvicorn.supervisors.multiprocess import Multiprocess

    from proctor.server.gateway import ServeOptions, event_loop, uvicorn_settings

    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway_bare", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args(argv)
    # exactly what `proctor serve` gives uvicorn (proctor/server/gateway.py, workers.py)
    config = uvicorn.Config(
        create_app,
        factory=True,
        workers=options.workers,
        loop=event_loop(),
        timeout_worker_healthcheck=60,
        **uvicorn_settings(ServeOptions(port=options.port)),
    )
    if options.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
