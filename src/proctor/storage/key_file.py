"""proctor's signing keys in a JSON key file, readable by its owner only (mode 0600).

Created on first use with one Ed25519 key. The file holds private keys: it is
never logged, printed or put in the audit trail; ``proctor keys jwks`` prints
the public half only.

More than one process writes the file (a running gateway adding the dev key,
``proctor keys rotate`` beside it), so every change is a read-modify-write
under an exclusive lock on a sibling ``.<name>.lock`` file: the change applies
to the ring on disk at that moment, never to a copy read earlier, and the
result replaces the file atomically (a 0600 temporary file renamed over it).
``KeyFile`` is one process's view: it reads the file again when it changed on
disk, so a rotation made by the CLI reaches a running gateway.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from proctor.identity.errors import IdentityError
from proctor.identity.keys import KeyRing

Change = Callable[[KeyRing], KeyRing]
Stamp = tuple[int, int, int, int]  # device, inode, size, modification time (ns)


def load_or_create(path: Path, now: int, *, overlap: int = 86_400) -> KeyRing:
    """The key ring in ``path``; a new one (saved 0600) when the file does not exist."""
    if path.exists():
        return _read(path, overlap)
    with _locked(path):
        if path.exists():  # another process made it while this one waited
            return _read(path, overlap)
        ring = KeyRing.generate(now, overlap=overlap)
        save(path, ring)
        return ring


def update(path: Path, change: Change, now: int, *, overlap: int = 86_400) -> KeyRing:
    """Apply ``change`` to the ring on disk now (made when missing) and save; the new ring."""
    with _locked(path):
        current = _read(path, overlap) if path.exists() else KeyRing.generate(now, overlap=overlap)
        changed = change(current)
        if changed is not current:
            save(path, changed)
        return changed


def save(path: Path, ring: KeyRing) -> None:
    """Write ``ring`` atomically: a 0600 temporary file (its own name) renamed over ``path``.

    Callers that change an existing ring go through ``update`` (under the lock).
    """
    temporary = ""
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(ring.to_document(), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise IdentityError(
            f"cannot write the key file `{path}`: {exc.strerror or exc}", code="key_file_invalid"
        ) from exc


def stamp(path: Path) -> Stamp | None:
    """What identifies this version of the file on disk (None when it is missing)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


class KeyFile:
    """One process's view of the key file: re-read when the file changed, changed under its lock."""

    def __init__(self, path: Path, *, overlap: int = 86_400) -> None:
        self.path = path
        self.overlap = overlap
        self._ring: KeyRing | None = None
        self._stamp: Stamp | None = None
        self._lock = threading.Lock()

    def ring(self, now: int) -> KeyRing:
        """The ring as the file holds it (a stat per call; read again only when it changed)."""
        ring, seen = self._ring, stamp(self.path)
        if ring is not None and (seen is None or seen == self._stamp):
            return ring  # unchanged, or removed under us: keep signing with what was read
        with self._lock:
            if self._ring is None or stamp(self.path) != self._stamp:
                self._ring = load_or_create(self.path, now, overlap=self.overlap)
                self._stamp = stamp(self.path)
            return self._ring

    def update(self, change: Change, now: int) -> KeyRing:
        with self._lock:
            self._ring = update(self.path, change, now, overlap=self.overlap)
            self._stamp = stamp(self.path)
            return self._ring


def _read(path: Path, overlap: int) -> KeyRing:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise IdentityError(
            f"the key file `{path}` is readable by others (mode {mode:o}); run `chmod 600 {path}`",
            code="key_file_insecure",
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IdentityError(
            f"cannot read the key file `{path}`: {exc}", code="key_file_invalid"
        ) from exc
    if not isinstance(document, dict):
        raise IdentityError(
            f"the key file `{path}` does not hold a JSON object", code="key_file_invalid"
        )
    return KeyRing.from_document(document, overlap=overlap)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``.<name>.lock`` beside ``path``, shared by every process."""
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise IdentityError(
            f"cannot lock the key file `{path}`: {exc.strerror or exc}", code="key_file_invalid"
        ) from exc
    try:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            msvcrt.locking(descriptor, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
