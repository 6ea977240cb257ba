"""Waiting for a failed audit store's writer to write again (it recovers on its own)."""

from __future__ import annotations

import threading
from typing import Any

WAIT = 10.0  # seconds: a bound for the writer thread's recovery, never reached when it works


def wait_healthy(store: Any, seconds: float = WAIT) -> None:
    """Return once ``store`` takes records again; fail the test after ``seconds``."""
    ready = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if store.healthy:
            return
        ready.wait(0.01)  # the writer thread recovers on its own: poll it
    raise AssertionError("the store did not write again")
