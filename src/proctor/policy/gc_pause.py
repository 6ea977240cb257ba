"""The cyclic garbage collector paused while a policy set is built.

Loading 10,000 rules allocates about a million objects (parser events,
documents, compiled rules), none of them garbage in a cycle. With the
collector running, each generation fills as they are made and is scanned
again and again: more than half of the load time. ``collector_paused`` turns
it off for the duration and back on after, as it was; the objects are still
tracked and the next collection sees them once.

The collector is one for the process: a counter under a lock lets loads in
several threads overlap, the last one out restoring what the first one found.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
