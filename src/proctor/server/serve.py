"""Running the gateway: a runtime from the config (or none), the app, uvicorn.

The server answers a check only once its audit record is committed (the
runtime waits for the audit writer; concurrent requests share one commit,
SQLite's group commit), so a decision a client saw survives a crash of the
process. ``storage.durability: sync`` adds ``synchronous=FULL`` for power
loss. SIGTERM (and Ctrl-C) stops accepting connections, answers what was
already sent on open ones and closes them (``drain.py``), lets requests in
flight finish, then closes the runtime, which flushes the audit queue.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from starlette.applications import Starlette

from proctor.banner import startup_banner
from proctor.server.gateway import (
    DATABASE_ENV,
    DEFAULT_DB,
    ServeOptions,
    event_loop,
    gateway_for,
    settle_collector,
    uvicorn_settings,
)
from proctor.server.state import GatewayState


def serve(options: ServeOptions) -> None:
    from proctor.server.workers import run_workers, worker_count

    app = gateway_for(options)
    state: GatewayState = app.state.gateway
    try:
        workers = worker_count(options.workers, state.runtime)
    except BaseException:
        state.commits.close()
        state.runtime.close()
        raise
    options = replace(options, workers=workers)
    sys.stderr.write(gateway_banner(app, options))
    sys.stderr.flush()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if workers > 1:
        run_workers(app, options, workers)
        return
    _serve_one(app, options)


def _serve_one(app: Starlette, options: ServeOptions) -> None:
    import anyio.to_thread
    import uvicorn

    settle_collector()

    async def widen_thread_pool() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = options.workers_threads

    from proctor.server.drain import DrainingServer

    state: GatewayState = app.state.gateway

    def drain() -> None:
        state.draining = True

    server = DrainingServer(uvicorn.Config(app, **uvicorn_settings(options)), on_drain=drain)
    loop = {"use_uvloop": True} if event_loop() == "uvloop" else {}
    anyio.run(_run, server, widen_thread_pool, backend_options=loop)


def gateway_banner(app: Starlette, options: ServeOptions) -> str:
    """Address, config, policies, database and dashboard of the gateway about to start."""
    state: GatewayState = app.state.gateway
    scheme = "https" if options.tls_cert else "http"
    host = f"[{options.host}]" if ":" in options.host else options.host
    address = f"{scheme}://{host}:{options.port}"
    loaded = state.config
    database = (
        options.db
        or os.environ.get(DATABASE_ENV)
        or (loaded.audit_location if loaded is not None else DEFAULT_DB)
    )
    return startup_banner(
        "proctor serve",
        address=address,
        config=str(Path(loaded.file).resolve()) if loaded is not None else None,
        policies=state.runtime.policies,
        database=database,
        dashboard=f"{address}/ui",
        workers=options.workers,
    )


async def _run(server: object, before: object) -> None:
    await before()  # type: ignore[operator]
    await server.serve()  # type: ignore[attr-defined]
