"""``proctor serve --workers N``: N gateway processes on one listening socket.

The supervisor (the process ``proctor serve`` started) builds the gateway
once, so a bad config fails before any worker starts and the database is
created and migrated once; it then binds the socket and hands it to N worker
processes (uvicorn's process supervisor: the kernel gives each connection to
one worker's ``accept``; a worker that dies is replaced). Each worker is a
whole gateway over the same database, as replicas are: the chain head is read
and moved under the database's write lock in the transaction that appends a
batch (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``SELECT ... FOR UPDATE``),
counters are charged in one locked transaction, and every worker answers only
once its own writer committed the record. Nothing that decides is cached per
process: no chain head, no counter, no approval.

SIGTERM to the supervisor drains, as one process does (``drain.py``): the
supervisor closes its copy of the listening socket first (else connections
would queue on it, unanswered, until it exits, then be reset), then signals
every worker, and each worker is a ``DrainingServer``: it stops accepting,
answers what was sent on its open connections with ``Connection: close``,
then exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from dataclasses import replace
from functools import partial
from multiprocessing import parent_process
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from proctor.errors import ProctorError

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send
    from uvicorn.supervisors.multiprocess import Multiprocess

    from proctor.runtime import Runtime
    from proctor.server.gateway import ServeOptions

WORKERS_IN_MEMORY = "workers_need_shared_store"
_WORKER_START_SECONDS = 60
_PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(asked: int | None, runtime: Runtime) -> int:
    """``--workers``, else the number of cores; one for a store that lives in one process."""
    if shares_store(runtime):
        return asked if asked is not None else default_workers()
    if asked is not None and asked > 1:
        raise ProctorError(
            f"`{asked}` workers cannot share an in-memory audit store: each would keep "
            "its own chain and counters",
            code=WORKERS_IN_MEMORY,
            hint="give --db a SQLite file or a postgresql:// URL, or run --workers 1",
        )
    return 1


def shares_store(runtime: Runtime) -> bool:
    """True when the audit store is a file or a server that other processes open too."""
    audit = runtime.audit
    return isinstance(getattr(audit, "path", None), str) or isinstance(
        getattr(audit, "url", None), str
    )


def run_workers(app: Starlette, options: ServeOptions, workers: int) -> None:
    """Serve with ``workers`` processes until SIGTERM or SIGINT (then drain every worker)."""
    import uvicorn

    from proctor.export.service import start_export
    from proctor.server.gateway import event_loop, uvicorn_settings
    from proctor.server.ui.sessions import SECRET_ENV, session_secret

    state = app.state.gateway
    # Dashboard sessions signed in one worker are read by the others: one secret for all.
    os.environ.setdefault(SECRET_ENV, session_secret(state))
    state.commits.close()
    # One `export:` stream for the database, here: one per worker would send every record
    # N times and share one cursor file.
    exporter = start_export(state.runtime.audit, state.config)
    config = uvicorn.Config(
        partial(worker_app, replace(options, workers=workers)),
        factory=True,
        workers=workers,
        loop=event_loop(),
        # a worker builds its whole gateway before it answers a ping; on a busy host
        # that is seconds, and a replacement not ready in time would be killed
        timeout_worker_healthcheck=_WORKER_START_SECONDS,
        **uvicorn_settings(options),
    )
    try:
        _supervisor()(config, sockets=[config.bind_socket()]).run()
    finally:
        if exporter is not None:
            exporter.stop()
        state.runtime.close()


def _supervisor() -> type[Multiprocess]:
    """uvicorn's process supervisor, draining on SIGTERM (see the module's docstring)."""
    from uvicorn.supervisors import multiprocess

    from proctor.server.drain import DrainingSupervisor, DrainingWorker

    # uvicorn builds its workers by this module-level name (start, restart, replacement);
    # this process is the supervisor from here on, so the swap touches nothing else
    multiprocess.Process = DrainingWorker  # type: ignore[misc]
    return DrainingSupervisor


def worker_app(options: ServeOptions) -> ThreadLimit:
    """In a worker: the gateway over the shared database (uvicorn calls it once, at start)."""
    from proctor.server.drain import on_worker_drain
    from proctor.server.gateway import gateway_for, settle_collector

    _end_with_parent()
    app = gateway_for(options)
    app.state.gateway.workers = options.workers or 1
    state = app.state.gateway

    def drain() -> None:
        state.draining = True

    on_worker_drain(drain)
    settle_collector()
    return ThreadLimit(app, options.workers_threads)


class ThreadLimit:
    """The app, with the worker's thread pool widened when its event loop starts."""

    def __init__(self, app: Starlette, threads: int) -> None:
        self.app = app
        self._threads = threads
        self._widened = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._widened:
            to_thread.current_default_thread_limiter().total_tokens = self._threads
            self._widened = True
        await self.app(scope, receive, send)


def _end_with_parent() -> None:
    """SIGTERM (a graceful drain) when the supervisor dies, even by SIGKILL (Linux)."""
    supervisor = parent_process()
    with contextlib.suppress(OSError, AttributeError):
        libc: Any = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if supervisor is not None and os.getppid() != supervisor.pid:  # it died before the call
        os.kill(os.getpid(), signal.SIGTERM)
