"""Who signs checkpoints: an Ed25519 key file kept outside the database, or an external command.

The key file (PEM, PKCS#8, mode 0600) is made on first use. Whoever can write
the database cannot sign with it unless they can also read this file, so keep
it elsewhere (another volume, a secret mount) or use a command: ``signer_command``
gets the note text on stdin and prints the base64 Ed25519 signature (an HSM or
a cloud KMS behind a small script); its public key is configured beside it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.audit.errors import AUDIT_BAD_NOTE, AuditError
from proctor.audit.note import NoteVerifier

SIGNER_FAILED = "audit_signer_failed"
_COMMAND_TIMEOUT = 10.0


class KeyFileSigner:
    """Signs with the Ed25519 private key in ``path`` (made, 0600, when missing and ``create``)."""

    def __init__(self, path: Path, name: str, *, create: bool = True) -> None:
        self.name = name
        self.path = path
        self._private = _load_or_create(path, create)
        self.public_key = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:  # never print key material
        return f"KeyFileSigner({str(self.path)!r}, name={self.name!r})"


class CommandSigner:
    """Signs by running ``command`` (note text on stdin, base64 signature on stdout)."""

    def __init__(self, command: Sequence[str], verifier: NoteVerifier) -> None:
        self.command = list(command)
        self.name = verifier.name
        self.public_key = verifier.public_key
        self.verifier = verifier

    def sign(self, message: bytes) -> bytes:
        try:
            done = subprocess.run(
                self.command,
                input=message,
                capture_output=True,
                timeout=_COMMAND_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AuditError(
                f"the checkpoint signer could not run: {exc}", code=SIGNER_FAILED
            ) from exc
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise AuditError(
                f"the checkpoint signer exited with {done.returncode}: {said}", code=SIGNER_FAILED
            )
        try:
            return base64.b64decode(done.stdout.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AuditError("the checkpoint signer printed no base64", code=SIGNER_FAILED) from exc


def public_key_file(path: Path) -> NoteVerifier:
    """A verifier key read from a file (the line ``proctor audit public-key`` prints)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditError(
            f"cannot read the public key `{path}`: {exc}", code=AUDIT_BAD_NOTE
        ) from exc
    return NoteVerifier.parse(text)


def _load_or_create(path: Path, create: bool) -> Ed25519PrivateKey:
    if not path.exists():
        if not create:
            raise AuditError(f"no checkpoint key at `{path}`", code=SIGNER_FAILED)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if not _publish_once(path, pem):  # another process made it meanwhile: use theirs
            return _load_or_create(path, False)
        return key
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditError(
            f"the checkpoint key `{path}` is unreadable: {exc}", code=SIGNER_FAILED
        ) from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise AuditError(f"the checkpoint key `{path}` is not an Ed25519 key", code=SIGNER_FAILED)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    return loaded


def _publish_once(path: Path, content: bytes) -> bool:
    """Put ``content`` at ``path`` whole, unless a file is there already (then False).

    Written to a 0600 temporary file first and linked into place, so a process
    starting beside this one (``serve --workers``) reads either no key or the
    whole key, never a file still being written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # fails when the name exists: atomic
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)
