"""Answer only after the record is committed, without a thread blocked per request or per batch.

A request appends its record without waiting, then awaits the barrier. The
first waiter of a batch asks for a flush once the callbacks ready on the event
loop have run (every request decided in that turn joins the batch); the audit
writer commits everything queued before the flush and calls back, and one
wake-up of the loop answers the whole batch and starts the next flush for
those who arrived meanwhile: group commit, one flush in flight, no thread hop
but the writer's own. A store without ``flush_then`` is flushed on a thread.

A flush that fails says only that something queued was not written: records
of earlier batches may have committed. A request that names its record
(``wait(decision_id)``) is then answered by that record's fate, read back from
the store on a thread, so what its client is told agrees with what the audit
says. A flush not done within ``timeout`` answers its batch with an error (a
deny), and the next batch gets a flush of its own.
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
        self._flushing = 0  # the generation of the flush in flight; 0: none
        self._generation = 0
        self._flush_then: Callable[[_Committed], None] | None = getattr(store, "flush_then", None)

    async def wait(self, decision_id: str | None = None) -> None:
        """Return once everything appended before the call is committed; raise if it cannot be.

        With ``decision_id``, return as soon as that record is committed, even when
        a later one failed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.append((loop, future, decision_id))
            start = not self._flushing
            if start:
                self._generation += 1
                self._flushing = self._generation
        if start:  # after the callbacks ready now: the requests they decide join this batch
            loop.call_soon(self._flush, loop, self._flushing)
        await future

    def close(self) -> None:
        """Nothing to stop: the store's writer answers what is in flight as it closes."""

    def _flush(self, loop: asyncio.AbstractEventLoop, generation: int) -> None:
        """On the loop: one flush for everyone waiting now; ``_committed`` when it is done."""
        with self._lock:
            batch, self._waiting = self._waiting, []
        timer = loop.call_later(self._timeout, self._expire, loop, batch, generation)

        def committed(error: ProctorError | None) -> None:  # on the writer's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting
                loop.call_soon_threadsafe(self._committed, loop, batch, timer, generation, error)

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
        batch: list[_Waiter],
        timer: asyncio.TimerHandle,
        generation: int,
        error: ProctorError | None,
    ) -> None:
        """On the loop: answer the batch, then flush for those who arrived meanwhile."""
        timer.cancel()
        if error is None:
            _answer([(future, None) for _, future, _ in batch], batch)
        else:  # each named record's fate is read from the store: off the loop
            loop.run_in_executor(None, self._fates, batch, error)
        self._next(loop, generation)

    def _expire(
        self, loop: asyncio.AbstractEventLoop, batch: list[_Waiter], generation: int
    ) -> None:
        late = StorageError(
            f"the audit store did not commit within {self._timeout} s", code=STORAGE_TIMEOUT
        )
        _answer([(future, late) for _, future, _ in batch], batch)
        self._next(loop, generation)

    def _next(self, loop: asyncio.AbstractEventLoop, generation: int) -> None:
        with self._lock:
            if self._flushing != generation:  # a flush that expired: its successor runs
                return
            if not self._waiting:
                self._flushing = 0
                return
            self._generation += 1
            self._flushing = self._generation
        self._flush(loop, self._flushing)

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
