"""Where records go when a store cannot take them: JSON lines beside the database, else stderr.

A record for a call that was allowed must never be lost. When a batch cannot be
written, its payloads are appended here, one JSON object per line:
``{"spill": {"code": ..., "reason": ...}, "record": {...payload...}}``. If the
spill file cannot be written either, the same lines go to stderr.

Every line stays readable. A write that fails midway (a full disk, a file size
limit) is cut back to where it began, so the next spill is not glued onto half
a line; its lines went to stderr whole. A tail left torn anyway (the process
killed mid-write, or the cut failing too) is kept, wrapped as one line
``{"spill": {"code": "spill_torn", ...}, "torn": "<the partial text>"}``, before
anything is appended after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO


class SpillFile:
    """Appends payloads that could not be stored to ``path`` (or ``stream`` when that fails)."""

    def __init__(self, path: str | None, *, stream: TextIO | None = None) -> None:
        self.path = path
        self._stream = stream

    def write(self, payloads: Iterable[dict[str, Any]], *, code: str, reason: str) -> str:
        """Spill ``payloads``; returns where they went (the file path or ``"stderr"``)."""
        lines = [_line(payload, code, reason) for payload in payloads]
        if not lines:
            return self.path or "stderr"
        text = "".join(lines)
        if self.path is not None:
            try:
                _append_whole(self.path, text.encode("ascii"))
                return self.path
            except OSError as exc:
                text = f"proctor: cannot write the audit spill file `{self.path}` ({exc})\n" + text
        stream = self._stream if self._stream is not None else sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # nowhere left to write; the failure itself is on the store
        return "stderr"


def _line(payload: dict[str, Any], code: str, reason: str) -> str:
    entry: dict[str, Any] = {"spill": {"code": code, "reason": reason}, "record": payload}
    # ASCII and repr() so that any payload, even one that broke the encoder, is written.
    try:
        return json.dumps(entry, sort_keys=True, ensure_ascii=True, default=repr) + "\n"
    except (ValueError, TypeError, RecursionError):  # a cycle, or keys json cannot sort
        entry["record"] = repr(payload)
        return json.dumps(entry, sort_keys=True, ensure_ascii=True) + "\n"


TORN = "spill_torn"
_TAIL_CHUNK = 65536


def _append_whole(path: str, data: bytes) -> None:
    """Append ``data`` (whole lines) after the file's last whole line, or leave no trace."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        start = _mend_torn_tail(fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):  # else the next write mends it
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


def _mend_torn_tail(fd: int) -> int:
    """The file's size once any torn last line is wrapped into a readable one."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    end = size  # find the start of the torn line: just after the last newline
    while end > 0:
        begin = max(0, end - _TAIL_CHUNK)
        newline = os.pread(fd, end - begin, begin).rfind(b"\n")
        if newline >= 0:
            end = begin + newline + 1
            break
        end = begin
    torn = os.pread(fd, size - end, end).decode("ascii", errors="replace")
    reason = "a spill write ended midway here: this is its partial text"
    line = json.dumps({"spill": {"code": TORN, "reason": reason}, "torn": torn}, sort_keys=True)
    os.ftruncate(fd, end)
    os.write(fd, (line + "\n").encode("ascii"))
    return end + len(line) + 1
