"""Writers of one SQLite file take turns through a lock file beside it.

SQLite lets one connection write at a time. A connection that finds the file
locked sleeps in SQLite's busy handler in growing steps (1, 2, 5, 10 ... up to
100 ms), however soon the lock comes free. Gateway workers on one file meet on
every audit batch, so those sleeps became their latency's tail: a batch waited
up to 180 ms for a lock held about 1 ms.

So the audit writer of each process (one per gateway worker) first takes an
``flock(2)`` on ``<file>.lock``, trying again every ``_RETRY_SECONDS``: a
writer waits for the batch before it, not for a backoff step. (The counter
and approval transactions do not: in one process, beside the audit writer,
taking the turn made checks with two counters ~8 % slower.)
The turn is advisory: SQLite's own lock still decides. A writer that
cannot get its turn within its busy timeout (a holder stopped by a debugger,
a platform without ``flock``) goes on without it, into SQLite's busy handler
as before, so a stuck lock file delays a write and never stops one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # not POSIX: writers rely on SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

_RETRY_SECONDS = 0.0001  # how often a waiting writer tries again: about a tenth of a batch


def lock_path(database: str) -> str:
    """The lock file beside ``database`` (as the spill file has its ``.lock``)."""
    return f"{database}.lock"


class WriteTurns:
    """One writer's handle on the lock file of ``database`` (one per connection that writes;
    turns are exclusive between handles, in one process or several)."""

    def __init__(
        self,
        database: str,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = lock_path(database)
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._fd: int | None = None
        if fcntl is not None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only directory: SQLite's lock alone, as before
                self._fd = None

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """Hold the turn for the block (True), or go on without it past the timeout (False)."""
        held = self._take()
        try:
            yield held
        finally:
            if held:
                assert self._fd is not None
                assert fcntl is not None
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases a turn still held
            self._fd = None

    def _take(self) -> bool:
        fd = self._fd
        if fd is None or fcntl is None:
            return False
        deadline: float | None = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
            except OSError:  # the lock file went bad: SQLite's lock alone
                return False
            now = self._clock()
            if deadline is None:
                deadline = now + self._timeout
            elif now >= deadline:
                return False
            self._sleep(_RETRY_SECONDS)
