"""The ``Scanner`` protocol: what a built-in or third-party scanner provides.

Third parties register a factory (a class or a function taking no arguments) in
the ``proctor.scanners`` entry-point group; the built-in scanners are registered
the same way in proctor's own ``pyproject.toml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from proctor.scanners.findings import Direction, Finding

ENTRY_POINT_GROUP = "proctor.scanners"


@runtime_checkable
class Scanner(Protocol):
    """Finds things in text. Pure: no I/O, no clock, no global state.

    ``cost`` orders the cascade (cheap first); ``types`` lists the finding-type
    prefixes the scanner can produce, so a caller can skip stages it does not need.
    """

    name: str
    cost: int
    types: frozenset[str]

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]: ...
