"""proctor's signing keys in a JSON key file, readable by its owner only (mode 0600).

Created on first use with one Ed25519 key. The file holds private keys: it is
never logged, printed or put in the audit trail; ``proctor keys jwks`` prints
the public half only.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from proctor.identity.errors import IdentityError
from proctor.identity.keys import KeyRing


def load_or_create(path: Path, now: int, *, overlap: int = 86_400) -> KeyRing:
    """The key ring in ``path``; a new one (saved 0600) when the file does not exist."""
    if not path.exists():
        ring = KeyRing.generate(now, overlap=overlap)
        save(path, ring)
        return ring
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
    return KeyRing.from_document(document, overlap=overlap)


def save(path: Path, ring: KeyRing) -> None:
    """Write ``ring`` atomically: a 0600 temporary file renamed over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(ring.to_document(), handle, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        raise IdentityError(
            f"cannot write the key file `{path}`: {exc.strerror or exc}", code="key_file_invalid"
        ) from exc
