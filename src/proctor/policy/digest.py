"""The digest that names a policy set: the same texts in the same order, the same digest.

Decision records carry it, stored versions are keyed by it, and ``proctor
policy show --digest`` finds the texts again by it. Only the texts count, not
the names they were read under: a set pushed from another checkout of the same
files is the same set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

_DOMAIN = b"proctor-policy-set-v1\n"


def policy_set_digest(texts: Iterable[str]) -> str:
    """``sha256:`` and the hex SHA-256 of the length-prefixed texts (unambiguous joins)."""
    hasher = hashlib.sha256(_DOMAIN)
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        hasher.update(b"%d\n" % len(data))
        hasher.update(data)
    return "sha256:" + hasher.hexdigest()


EMPTY_SET_DIGEST = policy_set_digest(())
