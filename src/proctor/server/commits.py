"""Answer only after the record is committed, without a thread blocked per request or per batch.

A request appends its record without waiting, then awaits the barrier. The
first waiter of an event-loop turn asks for one flush, run once the callbacks
ready on the loop have run (every request decided in that turn joins it); the
audit writer commits everything queued before the flush and calls back, and
one wake-up of the loop answers that whole group. Flushes do not wait for one
another: while the writer commits one group the loop goes on deciding, and
the next group's flush is already queued behind it (the writer takes every
record and flush queued by then in one commit). A store without
``flush_then`` is flushed on a thread.

A flush that fails says only that something queued was not written: records
of earlier batches may have committed. A request that names its record
(``wait(decision_id)``) is then answered by that record's fate, read back from
the store on a thread, so what its client is told agrees with what the audit
says. A flush not done within ``timeout`` answers its group with an error (a
deny).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from proctor.errors import ProctorError
from proctor.storage.contracts import AuditStore
from proctor.storage.errors import STORAGE_TIMEOUT, StorageError

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", str | None]
_Outcome = tuple["asyncio.Future[None]", ProctorError | None]
_Committed = Callable[[ProctorError | None], None]


class CommitBarrier:
    def __init__(self, store: AuditStore, *, timeout: float = 30.0) -> None:
        self._store = store
        self._timeout = timeout
        self._lock = threading.Lock()  # waits may come from several loops (tests, threads)
        self._waiting: list[_Waiter] = []
        self._flush_then: Callable[[_Committed], None] | None = getattr(store, "flush_then", None)

    async def wait(self, decision_id: str | None = None) -> None:
        """Return once everything appended before the call is committed; raise if it cannot be.

        With ``decision_id``, return as soon as that record is committed, even when
        a later one failed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            first = not self._waiting
            self._waiting.append((loop, future, decision_id))
        if first:  # after the callbacks ready now: the requests they decide join this flush
            loop.call_soon(self._flush, loop)
        await future

    def close(self) -> None:
        """Nothing to stop: the store's writer answers what is in flight as it closes."""

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: one flush for everyone waiting now; ``_committed`` when it is done."""
        with self._lock:
            group, self._waiting = self._waiting, []
        timer = loop.call_later(self._timeout, self._expire, group)

        def committed(error: ProctorError | None) -> None:  # on the writer's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting
                loop.call_soon_threadsafe(self._committed, loop, group, timer, error)

        if self._flush_then is not None:
            self._flush_then(committed)
        else:
            loop.run_in_executor(None, self._flush_blocking, committed)

    def _flush_blocking(self, committed: _Committed) -> None:
        try:
            self._store.flush(timeout=self._timeout)
        except ProctorError as exc:
            committed(exc)
            return
        except Exception as exc:  # never strand a waiting request
            committed(ProctorError(f"the audit flush failed: {exc!r}", code="storage_unavailable"))
            return
        committed(None)

    def _committed(
        self,
        loop: asyncio.AbstractEventLoop,
        group: list[_Waiter],
        timer: asyncio.TimerHandle,
        error: ProctorError | None,
    ) -> None:
        """On the loop: answer the group (a failed flush: each named record's fate, off it)."""
        timer.cancel()
        if error is None:
            _answer([(future, None) for _, future, _ in group], group)
        else:
            loop.run_in_executor(None, self._fates, group, error)

    def _expire(self, group: list[_Waiter]) -> None:
        late = StorageError(
            f"the audit store did not commit within {self._timeout} s", code=STORAGE_TIMEOUT
        )
        _answer([(future, late) for _, future, _ in group], group)

    def _fates(self, batch: list[_Waiter], error: ProctorError) -> None:
        outcomes: list[_Outcome] = []
        for _, future, decision_id in batch:
            stored = decision_id is not None and self._stored(decision_id)
            outcomes.append((future, None if stored else error))
        _answer(outcomes, batch)

    def _stored(self, decision_id: str) -> bool:
        try:
            return self._store.get(decision_id) is not None
        except Exception:  # unreadable: not known to be recorded, so the error stands
            return False


def _answer(outcomes: list[_Outcome], batch: list[_Waiter]) -> None:
    """Settle each future on its own loop: one wake-up of each loop, none of the current one."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for (loop, _, _), outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(loop, []).append(outcome)
    try:
        running: Any = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for loop, settled in by_loop.items():
        if loop is running:
            _settle(settled)
        else:
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
