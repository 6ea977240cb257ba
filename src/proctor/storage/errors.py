"""Errors of the storage package: the database is missing, damaged, busy or closed.

Backends translate their driver's exceptions into ``StorageError`` at the
boundary (``raise StorageError(...) from exc``), so callers see one type.
"""

from __future__ import annotations

from typing import TypeVar

from proctor.errors import ProctorError

_E = TypeVar("_E", bound=ProctorError)

# The store cannot read or write (missing directory, disk full, read-only file,
# a table gone, a failed writer); the runtime denies calls it cannot record.
STORAGE_UNAVAILABLE = "storage_unavailable"
# The file is not a database of ours or fails its integrity check.
STORAGE_CORRUPT = "storage_corrupt"
# Another connection held the database past the busy timeout.
STORAGE_LOCKED = "storage_locked"
# The store was closed.
STORAGE_CLOSED = "storage_closed"
# ``flush(timeout=...)`` ran out of time before the queue was written.
STORAGE_TIMEOUT = "storage_timeout"
# A record with this decision id is stored already; the new one was not chained.
DUPLICATE_RECORD = "duplicate_record"


class StorageError(ProctorError):
    """The storage backend cannot do what was asked; ``code`` says why."""

    code = STORAGE_UNAVAILABLE


def copy_error(error: _E) -> _E:
    """A fresh instance of ``error`` to raise in another thread (tracebacks are per raise)."""
    return type(error)(
        error.message,
        code=error.code,
        location=error.location,
        hint=error.hint,
        details=error.details,
    )
