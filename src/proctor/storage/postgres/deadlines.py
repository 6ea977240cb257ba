"""Client-side bounds on PostgreSQL round trips, for a server that answers nothing.

A frozen server (SIGSTOP, a hung host, a stalled disk under the postmaster)
keeps its TCP connections open: the kernel still acknowledges what is sent,
so neither keepalives nor ``tcp_user_timeout`` fire, and a query waits for
its answer forever. psycopg 3 has no client-side statement timeout, its
cancel request goes to the same frozen postmaster, and a server-side
``statement_timeout`` is of no use when the server runs nothing. So each unit
of work runs under a deadline kept by one watchdog thread: past it, the
watchdog shuts the connection's socket down (``shutdown(2)``, not ``close``:
the descriptor stays libpq's), the blocked call fails at once, psycopg marks
the connection broken, and the pool discards it.

A long read (the whole chain verified, every row exported) has no total
bound: a big healthy chain may stream for minutes. Its bound is on silence
instead (``Progress``): it starts again with each row the server sends, and
does not run while the caller works on a row it was handed.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

# How long one unit of work (a transaction, a batch of audit records, a pool
# checkout) may take before the server is taken as not answering.
OPERATION_SECONDS = 2.0
# How long a long read may wait for the server's next rows.
STALL_SECONDS = 10.0


class Progress:
    """A silence bound's clock: moved on by each row, stopped while the caller holds one."""

    __slots__ = ("_last", "_paused", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last = time.monotonic()
        self._paused = False

    def due(self) -> float:
        """When the server will have been silent for ``seconds``, as far as known now."""
        if self._paused:
            return time.monotonic() + self.seconds
        return self._last + self.seconds

    def through(self, rows: Iterable[Any]) -> Iterator[Any]:
        """``rows``, the clock stopped from handing one out until the next is asked for."""
        try:
            for row in rows:
                self._paused = True
                yield row
                self._last = time.monotonic()
                self._paused = False
        finally:  # also when the caller stops early: what follows (a ROLLBACK) is bounded
            self._last = time.monotonic()
            self._paused = False


_KEPT_DISARMED = 1024  # disarmed tickets left in the heap before it is compacted


class _Watchdog:
    """One thread for the process: a heap of (deadline, ticket) and the sockets behind them."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        # ticket -> (fd, inode, the progress that moves its deadline on, if any)
        self._armed: dict[int, tuple[int, int, Progress | None]] = {}
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int, seconds: float, progress: Progress | None = None) -> int:
        inode = os.fstat(fd).st_ino
        with self._lock:
            ticket = next(self._tickets)
            self._armed[ticket] = (fd, inode, progress)
            heapq.heappush(self._heap, (time.monotonic() + seconds, ticket))
            if len(self._heap) > 2 * len(self._armed) + _KEPT_DISARMED:
                # mostly disarmed tickets, which the thread drops only as their time comes
                self._heap = [entry for entry in self._heap if entry[1] in self._armed]
                heapq.heapify(self._heap)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="proctor-pg-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][1] == ticket:  # else the thread wakes sooner than this is due
                self._lock.notify()
        return ticket

    def disarm(self, ticket: int) -> bool:
        """Stop watching; False when the deadline had already passed (the socket is shut)."""
        with self._lock:
            return self._armed.pop(ticket, None) is not None

    def _run(self) -> None:
        with self._lock:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # disarmed in time
                if not self._heap:
                    self._lock.wait()
                    continue
                due, ticket = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                heapq.heappop(self._heap)
                progress = self._armed[ticket][2]
                later = progress.due() if progress is not None else due
                if later > time.monotonic():  # rows arrived since: a new deadline
                    heapq.heappush(self._heap, (later, ticket))
                    continue
                fd, inode, _ = self._armed.pop(ticket)
                _shut(fd, inode)


def _shut(fd: int, inode: int) -> None:
    """Shut the socket down, only if ``fd`` still names the socket it named when armed."""
    try:
        if os.fstat(fd).st_ino != inode:
            return
        duplicate = socket.socket(fileno=os.dup(fd))
    except OSError:
        return  # closed already: the call it bounded has ended
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


_WATCHDOG = _Watchdog()


class DeadlineExpired(psycopg.OperationalError):
    """The server did not answer within the bound; the connection was shut down.

    A psycopg error, so every translation of psycopg's errors catches it.
    """


@contextmanager
def bounded(
    conn: psycopg.Connection[Any],
    seconds: float | None = OPERATION_SECONDS,
    *,
    progress: Progress | None = None,
) -> Iterator[None]:
    """Run the block's round trips on ``conn`` within ``seconds`` in all (None: no bound),
    or, with ``progress``, within its ``seconds`` of silence from the server.

    Past the bound the socket is shut down, so the waiting call raises; that
    error is re-raised as ``DeadlineExpired`` (from the psycopg error), which
    tells a caller the server did not answer rather than refused.
    """
    if progress is not None:
        seconds = progress.seconds
    try:
        fd = conn.pgconn.socket
    except psycopg.OperationalError:  # already broken: the block fails on its own
        fd = -1
    if seconds is None or fd < 0:
        yield
        return
    ticket = _WATCHDOG.arm(fd, seconds, progress)
    try:
        yield
    except psycopg.Error as exc:
        if not _WATCHDOG.disarm(ticket):
            silent = "for" if progress is not None else "within"
            raise DeadlineExpired(
                f"no answer from the PostgreSQL server {silent} {seconds:g} s"
            ) from exc
        raise
    else:
        if not _WATCHDOG.disarm(ticket):
            # the work ended as the socket was shut: the connection is unusable now
            conn.close()
    finally:
        _WATCHDOG.disarm(ticket)


def check_within_bound(conn: psycopg.Connection[Any]) -> None:
    """The pool's checkout check (one empty round trip), bounded like any other work."""
    with bounded(conn):
        conn.execute("")


def connection_options(url: str) -> dict[str, Any]:
    """libpq options that bound waiting on the network, where ``url`` sets none of its own.

    ``connect_timeout`` bounds a connection attempt (a frozen postmaster accepts
    in the kernel, then never answers the startup packet); ``tcp_user_timeout``
    and keepalives end a connection to a host that vanished (unplugged, crashed)
    instead of waiting for TCP's retransmissions (about 15 minutes).
    """
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(url)
    defaults: dict[str, Any] = {
        "connect_timeout": 2,  # libpq's floor: a smaller value counts as 2 s
        "tcp_user_timeout": int(OPERATION_SECONDS * 2000),
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
    }
    return {name: value for name, value in defaults.items() if name not in given}
