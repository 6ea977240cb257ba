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

Lines that could go to stderr only are also held in memory (up to
``MEMORY_LINES``), so a replay (``spill_replay.py``) finds them too. Writers in
several processes (``serve --workers N``) share one file: each write holds an
``flock`` on ``<path>.lock``, and a replay claims the file by renaming it to
``<path>.replaying`` under the same lock, so no line lands in a file that is
being replayed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

MEMORY_LINES = 100_000  # lines held for replay when even the spill file cannot be written
# Decision ids spilled as the deny their caller is told, remembered for the commit barrier
# (``server/commits.py``), which looks one up within moments of its spill.
REFUSED_IDS = 100_000


class SpillFile:
    """Appends payloads that could not be stored to ``path`` (or ``stream`` when that fails)."""

    def __init__(self, path: str | None, *, stream: TextIO | None = None) -> None:
        self.path = path
        self._stream = stream
        self._lock = threading.Lock()  # this process's writers and its replay
        self._unwritten: list[str] = []  # lines only stderr got
        self._refused: dict[str, None] = {}  # the latest REFUSED_IDS, oldest first
        self.spilled = 0  # lines spilled by this process (the gateway's counter)
        self.replayed = 0  # records this process replayed into the chain

    def note_refused(self, decision_ids: Iterable[str]) -> None:
        """These records were spilled as the deny their callers are told."""
        with self._lock:
            for decision_id in decision_ids:
                self._refused[decision_id] = None
            while len(self._refused) > REFUSED_IDS:
                del self._refused[next(iter(self._refused))]

    def refused(self, decision_id: str) -> bool:
        """True when this process spilled ``decision_id`` as a deny (recently: the last
        ``REFUSED_IDS``), whether or not a replay has chained it since."""
        return decision_id in self._refused

    @property
    def replaying_path(self) -> str | None:
        return None if self.path is None else f"{self.path}.replaying"

    def write(
        self, payloads: Iterable[dict[str, Any]], *, code: str, reason: str, kept: bool = False
    ) -> str:
        """Spill ``payloads``; returns where they went (the file path or ``"stderr"``).

        ``kept``: records refused on their own (a duplicate, content JCS cannot encode),
        which no replay could chain, go straight to the kept file (``kept_path``).
        """
        lines = [_line(payload, code, reason) for payload in payloads]
        if not lines:
            return self.path or "stderr"
        with self._lock:
            if kept:
                return self._write_lines(lines, None if self.path is None else kept_path(self.path))
            self.spilled += len(lines)
            return self._write_lines(lines, self.path)

    def _write_lines(self, lines: list[str], path: str | None) -> str:
        text = "".join(lines)
        if path is not None:
            try:
                with _file_lock(path):
                    _append_whole(path, text.encode("ascii"))
                return path
            except OSError as exc:
                text = f"proctor: cannot write the audit spill file `{path}` ({exc})\n" + text
        if path == self.path:  # held for the replay
            room = MEMORY_LINES - len(self._unwritten)
            self._unwritten.extend(lines[: max(room, 0)])
        stream = self._stream if self._stream is not None else sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # nowhere left to write; the failure itself is on the store
        return "stderr"

    def pending(self) -> bool:
        """True while spilled lines wait for a replay (in the file, a claimed file, or memory)."""
        if self._unwritten:
            return True
        if self.path is None:
            return False
        assert self.replaying_path is not None
        return _has_lines(self.path) or _has_lines(self.replaying_path)

    def claim(self) -> tuple[str | None, list[str]]:
        """The lines to replay: ``<path>.replaying`` (left by an interrupted replay, else the
        spill file renamed to it) and the lines held in memory, which leave this file."""
        with self._lock:
            memory, self._unwritten = self._unwritten, []
            if self.path is None:
                return None, memory
            replaying = self.replaying_path
            assert replaying is not None
            with contextlib.suppress(OSError), _file_lock(self.path):
                if not os.path.exists(replaying) and _has_lines(self.path):
                    _mend(self.path)  # a torn last line is replayed as the line that says so
                    os.rename(self.path, replaying)
            return (replaying if _has_lines(replaying) else None), memory

    def unclaim(self, memory: list[str]) -> None:
        """A replay that failed gives back the memory lines it took (the claimed file stays)."""
        with self._lock:
            self._unwritten[:0] = memory

    def settle(self, done: Any) -> bool:
        """Call ``done()`` if nothing waits for a replay, with no spill write in between."""
        with self._lock:
            if self.pending():
                return False
            done()
            return True

    @contextlib.contextmanager
    def replay_lock(self) -> Iterator[bool]:
        """Held by one process's replay at a time; yields False when another process holds it."""
        if self.path is None:
            yield True
            return
        try:
            fd = os.open(f"{self.path}.replay.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield True  # no lock file on this disk: replaying alone is the likely case
            return
        try:
            try:
                _flock(fd, blocking=False)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock


def kept_path(path: str) -> str:
    """Where a replay keeps the lines it cannot replay (torn, refused on their own)."""
    base = path[: -len(".jsonl")] if path.endswith(".jsonl") else path
    return f"{base}-kept.jsonl"


def _has_lines(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


@contextlib.contextmanager
def _file_lock(path: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``<path>.lock`` (none when it cannot be opened: a full disk)."""
    try:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        _flock(fd, blocking=True)
        yield
    finally:
        os.close(fd)


def _flock(fd: int, *, blocking: bool) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)


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


def _mend(path: str) -> None:
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        _mend_torn_tail(fd)
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


def append_lines(path: str, lines: list[str]) -> None:
    """Append whole ``lines`` to ``path`` (raises ``OSError``; nothing is left half written)."""
    if lines:
        with _file_lock(path):
            _append_whole(path, "".join(lines).encode("utf-8"))
