"""Charges of unrecorded decisions, taken back off the answer's path until the store takes them.

A decision whose record could not be committed is denied, and what it
charged is not spent. Taking it back waits on the limits store, which is
often down with the audit store (one database): waiting for it before
answering would add its whole bound to the denial, and one failed attempt
would leave the charge spent for good. So the answer goes out at once and
this thread takes the charges back, trying again every half second while the
store does not answer. One per runtime (``Runtime.charge_returns``): the
gateway's commit barrier and an SDK process's record stage hand it the same
charges; its thread starts with the first charges handed to it. An attempt
that failed means nothing was taken back: one that timed out during its
COMMIT and committed later is undone by the counter store itself (``storage/sql/charge_doubts.py``).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence

from proctor.limits.counters import CounterCharge
from proctor.storage.errors import StorageError

_RETRY_SECONDS = 0.5
_log = logging.getLogger("proctor.limits")

Undo = Callable[[Sequence[CounterCharge]], None]


class ChargeReturns:
    def __init__(self, undo: Undo) -> None:
        self._undo = undo
        self._pending: deque[list[CounterCharge]] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None  # started by the first charges

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take_back(self, charges: list[CounterCharge]) -> None:
        if charges:
            with self._wake:
                self._pending.append(charges)
                self._wake.notify()
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="proctor-charge-returns", daemon=True
                    )
                    self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop once what is pending is taken back, or ``timeout`` passes."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if not self._pending:
                    return
                charges = self._pending[0]
            try:
                self._undo(charges)
            except StorageError:
                with self._wake:
                    if self._closed:
                        return  # the process stops: what is left stays spent
                    self._wake.wait(_RETRY_SECONDS)
                continue
            except Exception:  # not the store: retrying would fail the same way
                # the charges stay spent (the stricter side) and the thread goes on
                _log.exception("charges of an unrecorded decision could not be taken back")
            with self._wake:
                self._pending.popleft()
