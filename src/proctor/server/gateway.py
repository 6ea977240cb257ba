"""The gateway an options set asks for, and the server settings it runs with.

``proctor serve`` (serve.py) builds it once in the supervisor; each worker of
``serve --workers N`` (workers.py) builds its own from the same options.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from proctor.config import DEFAULT_CONFIG_NAME, LoadedConfig, load_config
from proctor.runtime import build_runtime
from proctor.runtime.bundles import follow_bundle
from proctor.server.app import create_app

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
