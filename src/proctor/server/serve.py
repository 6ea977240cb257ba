"""Running the gateway: a runtime from the config (or none), the app, uvicorn.

The server answers a check only once its audit record is committed (the
runtime waits for the audit writer; concurrent requests share one commit,
SQLite's group commit), so a decision a client saw survives a crash of the
process. ``storage.durability: sync`` adds ``synchronous=FULL`` for power
loss. SIGTERM (and Ctrl-C) stops accepting connections, lets requests in
flight finish, then closes the runtime, which flushes the audit queue.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

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


def serve(options: ServeOptions) -> None:
    import anyio.to_thread
    import uvicorn

    app = build_gateway(options.config, options.db, policies_from_store=options.policies_from_store)
    sys.stderr.write(gateway_banner(app, options))
    sys.stderr.flush()
    # The long-lived objects (compiled policies, caches) leave the collector's view, and
    # young collections run less often: fewer, shorter pauses under load (the p99).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)

    async def widen_thread_pool() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = options.workers_threads

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            ssl_certfile=options.tls_cert,
            ssl_keyfile=options.tls_key,
            timeout_graceful_shutdown=options.graceful_seconds,
            access_log=False,
            log_level="info",
            lifespan="on",
            server_header=False,
        )
    )
    try:
        import uvloop  # noqa: F401  (optional: the faster event loop when installed)

        options_for_loop = {"use_uvloop": True}
    except ImportError:
        options_for_loop = {}
    anyio.run(_run, server, widen_thread_pool, backend_options=options_for_loop)


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
    )


async def _run(server: object, before: object) -> None:
    await before()  # type: ignore[operator]
    await server.serve()  # type: ignore[attr-defined]
