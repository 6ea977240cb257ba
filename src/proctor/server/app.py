"""The app factory: routes, the error envelope, the body limit, metrics and shutdown."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from importlib.metadata import PackageNotFoundError, version

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proctor.config import LoadedConfig, ServerConfig
from proctor.export.service import start_export
from proctor.identity.registry import AgentRegistry
from proctor.runtime import Runtime
from proctor.runtime.agents import AgentAdmin
from proctor.runtime.approvals import ApprovalDesk
from proctor.runtime.following import follower_of
from proctor.server.auth import Authenticator
from proctor.server.body_size import BodySizeLimit
from proctor.server.checkpoints import start_checkpoints
from proctor.server.commits import CommitBarrier
from proctor.server.errors import install_handlers
from proctor.server.metrics import STAGE_SAMPLING, GatewayMetrics
from proctor.server.openapi import build_openapi
from proctor.server.plain_check import answer_check, is_plain_check
from proctor.server.replays import RequestReplays
from proctor.server.request_id import RequestIdEcho
from proctor.server.routes import (
    agents,
    approvals,
    audit,
    authzen,
    check,
    health,
    oauth,
    outputs,
    policies,
    status,
)
from proctor.server.state import GatewayState, caller
from proctor.server.ui import create_dashboard
from proctor.server.user_assertions import UserAssertions


def create_app(
    runtime: Runtime,
    *,
    settings: ServerConfig | None = None,
    config: LoadedConfig | None = None,
    close_runtime: bool = True,
) -> Starlette:
    """The gateway over ``runtime``; closing the app (lifespan end) flushes and closes it."""
    settings = settings or (config.config.server if config is not None else ServerConfig())
    state = GatewayState(
        runtime=runtime,
        settings=settings,
        auth=Authenticator(runtime, settings.admin_keys),
        metrics=GatewayMetrics(lambda: float(getattr(runtime.audit, "queued", 0))),
        approvals=ApprovalDesk(runtime),
        agents=AgentAdmin(runtime, _config_registry(runtime, config)),
        commits=CommitBarrier(runtime.audit, clock=runtime.clock),
        replays=RequestReplays(runtime.audit, runtime.clock),
        config=config,
        user_assertions=UserAssertions.of(runtime.users, config),
    )
    runtime.observe_stages(state.metrics.observe_stage, one_in=STAGE_SAMPLING)
    follower = follower_of(runtime)
    if follower is not None:  # every process on the store, by its heartbeat
        state.metrics.watch_processes(status.live_processes(follower))
    state.approvals.on_decided = state.metrics.observe_approval
    spill = getattr(runtime.audit, "spill", None)  # the stores that spill (not memory)
    if spill is not None:
        state.metrics.watch_spill(lambda: (spill.spilled, spill.replayed))
    document = build_openapi(_version())

    async def openapi(request: Request) -> Response:
        caller(request)
        return JSONResponse(document)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # the `export:` section, if any; under `serve --workers N` the supervisor runs it
        exporter = start_export(runtime.audit, config) if state.workers == 1 else None
        # `audit.checkpoints`: every worker may lead; the store's lease elects one
        checkpointer = start_checkpoints(runtime, config)
        try:
            yield
        finally:
            state.draining = True
            state.commits.close()
            if exporter is not None:
                await to_thread.run_sync(exporter.stop)
            if checkpointer is not None:
                await to_thread.run_sync(checkpointer.stop)
            if close_runtime:
                await to_thread.run_sync(runtime.close)  # flushes the audit queue

    app = GatewayApp(
        routes=[
            *check.routes,
            *outputs.routes,
            *authzen.routes,
            *oauth.routes,
            *audit.routes,
            *agents.routes,
            *policies.routes,
            *status.routes,
            *approvals.routes,
            *health.routes,
            Route("/openapi.json", openapi, methods=["GET"]),
            Mount("/ui", app=create_dashboard(state)),  # the dashboard: docs/dashboard.md
        ],
        middleware=[
            Middleware(RequestIdEcho),
            Middleware(CloseWhenDraining, draining=lambda: state.draining),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = state
    app.gateway = state
    install_handlers(app)
    return app


class GatewayApp(Starlette):
    """The routes through Starlette, but ``POST /v1/check``: plain ASGI (``plain_check.py``)."""

    gateway: GatewayState

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_plain_check(scope):
            await answer_check(self.gateway, scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _config_registry(runtime: Runtime, config: LoadedConfig | None) -> AgentRegistry:
    if config is None:
        return runtime.registry
    ids = {spec.id for spec in config.config.agents}
    agents = {key: agent for key, agent in runtime.registry.agents.items() if key in ids}
    return AgentRegistry(agents, runtime.registry.roles)


def _version() -> str:
    try:
        return version("proctor")
    except PackageNotFoundError:
        return "0"


class CloseWhenDraining:
    """Once ``draining()`` says so, every response asks the client to close its connection
    (``proctor.server.drain``: answer what was sent on it, then close). ``plain_check.py``
    does the same for ``POST /v1/check``, which does not pass through it."""

    def __init__(self, app: ASGIApp, *, draining: Callable[[], bool]) -> None:
        self.app = app
        self._draining = draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._draining():
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, closing)
