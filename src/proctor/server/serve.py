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

import gc
import logging
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from proctor.banner import startup_banner
from proctor.config import DEFAULT_CONFIG_NAME, LoadedConfig, load_config
from proctor.runtime import build_runtime
from proctor.runtime.bundles import follow_bundle
from proctor.server.app import create_app
from proctor.server.state import GatewayState

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700
DEFAULT_DB = "proctor.db"
DATABASE_ENV = "PROCTOR_DATABASE_URL"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    config: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    workers_threads: int = 64
    graceful_seconds: int = 10
    workers: int | None = None  # processes; None: the number of cores (workers.py)
    policies_from_store: bool | None = None  # None: the config's `storage.policies`
    bundle: str | None = None  # a signed bundle's file or URL (runtime.bundles)
    bundle_key: str | None = None


def build_gateway(
    config: str | None,
    db: str | None,
    *,
    policies_from_store: bool | None = None,
    bundle: tuple[str, str] | None = None,
) -> Starlette:
    """The app for ``--config``/``--db`` (``PROCTOR_DATABASE_URL`` when ``--db`` is absent)."""
    db = db or os.environ.get(DATABASE_ENV) or None
    path = config or (DEFAULT_CONFIG_NAME if Path(DEFAULT_CONFIG_NAME).is_file() else None)
    loaded: LoadedConfig | None = load_config(path) if path is not None else None
    from_store = policies_from_store
    if loaded is not None:
        runtime = build_runtime(
            loaded, audit=db, wait_for_audit=False, role="gateway", policies_from_store=from_store
        )
    else:
        runtime = build_runtime(
            audit=db or DEFAULT_DB, role="gateway", policies_from_store=from_store
        )
    if bundle is not None:  # (location, public key file)
        follow_bundle(runtime, *bundle)
    return create_app(runtime, config=loaded)


def gateway_for(options: ServeOptions) -> Starlette:
    """The app ``options`` ask for: the supervisor's, and each worker's."""
    bundle = (options.bundle, options.bundle_key) if options.bundle and options.bundle_key else None
    return build_gateway(
        options.config, options.db, policies_from_store=options.policies_from_store, bundle=bundle
    )


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


def uvicorn_settings(options: ServeOptions) -> dict[str, Any]:
    """What ``proctor serve`` tells uvicorn, with one worker or N (and the bench's baseline)."""
    return {
        "host": options.host,
        "port": options.port,
        "ssl_certfile": options.tls_cert,
        "ssl_keyfile": options.tls_key,
        "timeout_graceful_shutdown": options.graceful_seconds,
        "access_log": False,
        "log_level": "info",
        "lifespan": "on",
        "server_header": False,
    }


def event_loop() -> str:
    """``uvloop`` when it is installed (the faster event loop), else ``asyncio``."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def settle_collector() -> None:
    """The long-lived objects (compiled policies, caches) leave the collector's view, and
    young collections run less often: fewer, shorter pauses under load (the p99)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


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
