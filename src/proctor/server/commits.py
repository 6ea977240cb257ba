"""Answer only after the record is committed, without a blocked thread per request.

A request appends its record without waiting, then awaits the barrier. One
thread flushes the audit store for everyone waiting at that moment (a flush
commits everything queued before it) and wakes them together, with one
wake-up of their event loop: group commit, with one thread hop per batch
instead of one blocked thread per request. A wait while a wake-up is already
pending joins that batch without signalling the thread again.

A flush that fails says only that something queued was not written: records
of earlier batches may have committed. A request that names its record
(``wait(decision_id)``) is then answered by that record's fate, read back from
the store, so what its client is told agrees with what the audit says. A
record that could not be written is spilled as the deny its client is told
(the barrier tells the store so: ``answer_on_commit``) and replayed later, so
a record read back as that replayed deny is not a commit of the answer. A flush
that succeeds does not clear a request whose record was spilled while it waited
(its batch failed, then the store recovered and replayed it as a deny before
this flush's marker was written): such a record, which the spill remembers, is
read back too. Not
read back when the flush timed out (``storage_timeout``: the database stopped
answering, a read would wait out its bound too): such a request is denied at
once, and ``corrections`` appends a correction should its record commit after
all (``answer_corrections.py``); this thread settles them once the store
takes records again.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from proctor.clock import Clock, system_clock
from proctor.errors import ProctorError
from proctor.model.decision import AUDIT_UNAVAILABLE
from proctor.server.answer_corrections import AnswerCorrections
from proctor.storage.contracts import AuditStore
from proctor.storage.errors import STORAGE_TIMEOUT, STORAGE_UNAVAILABLE

_SETTLE_SECONDS = 0.5  # how often remembered denials are looked up while some are left

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]", str | None]
_Outcome = tuple["asyncio.Future[None]", ProctorError | None]


class CommitBarrier:
    def __init__(
        self, store: AuditStore, *, timeout: float = 30.0, clock: Clock = system_clock
    ) -> None:
        self._store = store
        answer_on_commit = getattr(store, "answer_on_commit", None)  # stores that spill
        if answer_on_commit is not None:
            answer_on_commit()
        self._timeout = timeout
        self._lock = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._wake = threading.Event()
        self._asleep = False  # the thread waits for `_wake`: the next wait must set it
        self._closed = False
        self.corrections = AnswerCorrections(store, clock=clock)
        self._thread = threading.Thread(target=self._run, name="proctor-commits", daemon=True)
        self._thread.start()

    async def wait(self, decision_id: str | None = None) -> None:
        """Return once everything appended before the call is committed; raise if it cannot be.

        With ``decision_id``, return as soon as that record is committed, even when
        a later one failed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.append((loop, future, decision_id))
            wake, self._asleep = self._asleep, False
        if wake:  # else the thread is awake, and takes this wait with the next batch
            self._wake.set()
        await future

    def correct_later(self, decision_id: str, problem: str) -> None:
        """``decision_id`` was answered deny though its record may commit yet: remembered,
        and this thread woken to look it up (an idle gateway gets no other wake-up)."""
        self.corrections.remember(decision_id, problem)
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(self._timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                batch, self._waiting = self._waiting, []
                self._asleep = not batch
            if batch:
                self._answer(batch)
            elif self._closed:
                return
            else:  # one `Event.set` per sleep, not one per request
                self._wake.wait(_SETTLE_SECONDS if self.corrections.pending else None)
                self._wake.clear()
            self.corrections.settle()

    def _answer(self, batch: list[_Waiter]) -> None:
        """Flush the store, then wake everyone in ``batch`` with their record's fate."""
        error: ProctorError | None = None
        try:
            self._store.flush(timeout=self._timeout)
        except ProctorError as exc:
            error = exc
        except Exception as exc:  # never strand a waiting request
            error = ProctorError(f"the audit flush failed: {exc!r}", code=STORAGE_UNAVAILABLE)
        settled: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        unanswered = error is not None and error.code == STORAGE_TIMEOUT
        for loop, future, decision_id in batch:
            outcome = error
            if decision_id is not None and not unanswered:
                outcome = self._fate(decision_id, error)
            settled.setdefault(loop, []).append((future, outcome))
        for loop, outcomes in settled.items():  # one wake-up of each loop per batch
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_settle, outcomes)

    def _fate(self, decision_id: str, error: ProctorError | None) -> ProctorError | None:
        """What the request of ``decision_id`` is told, given the flush's ``error``.

        A flush that succeeded still leaves out a record spilled before it: one whose
        batch failed while this flush waited, the store recovering (and replaying it
        as a deny) before this flush's marker was written."""
        if error is None:
            spill = getattr(self._store, "spill", None)  # stores that spill
            if spill is None or not spill.refused(decision_id):
                return None
            error = ProctorError(
                f"the record of `{decision_id}` could not be written: it was spilled, "
                "to be replayed as the deny its client is told",
                code=STORAGE_UNAVAILABLE,
            )
        return None if self._stored(decision_id) else error

    def _stored(self, decision_id: str) -> bool:
        try:
            record = self._store.get(decision_id)
        except Exception:  # unreadable: not known to be recorded, so the error stands
            return False
        return record is not None and record.get("code") != AUDIT_UNAVAILABLE


def _settle(outcomes: list[_Outcome]) -> None:
    for future, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
