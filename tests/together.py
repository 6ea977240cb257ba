"""Run one piece of work on several threads released at the same moment (start-up races)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_together(count: int, work: Callable[[], T]) -> list[T | Exception]:
    """``work`` on ``count`` threads behind one barrier: each result, or the exception raised."""
    together = threading.Barrier(count)
    outcomes: list[T | Exception] = []

    def one() -> None:
        together.wait()
        try:
            outcomes.append(work())
        except Exception as exc:  # collected: the caller's assertion names it
            outcomes.append(exc)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
