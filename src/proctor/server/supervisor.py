"""Signals from a worker to the ``serve --workers N`` supervisor (server/workers.py)."""

from __future__ import annotations

import os
import signal


def restart_workers() -> None:
    """Ask the supervisor to replace every worker, one by one (each reads the config anew).

    uvicorn's supervisor starts a replacement and waits for it to be ready
    before it stops the worker it replaces, so the port never goes unanswered.
    """
    os.kill(os.getppid(), signal.SIGHUP)
