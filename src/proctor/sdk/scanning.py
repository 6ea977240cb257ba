"""Scanning from Python: ``proctor.scan(text, direction=...)``.

The scanners are loaded by ``proctor.scanning`` (entry points of the
``proctor.scanners`` group, the built-ins included); its loading functions are
re-exported here for code that imported them from the SDK.
"""

from __future__ import annotations

from collections.abc import Collection

from proctor.scanners import Direction, ScanResult
from proctor.scanning.loading import (
    build_cascade,
    build_optional_scanner,
    configured_scanners,
    default_cascade,
    load_scanners,
    stage_budgets,
)

__all__ = [
    "build_cascade",
    "build_optional_scanner",
    "configured_scanners",
    "default_cascade",
    "load_scanners",
    "scan",
    "stage_budgets",
]


def scan(
    text: str | bytes,
    *,
    direction: Direction | str = Direction.INPUT,
    types: Collection[str] | None = None,
) -> ScanResult:
    """Findings in ``text`` from every registered scanner (bytes are decoded safely)."""
    cascade = default_cascade()
    if isinstance(text, bytes):
        return cascade.scan_bytes(text, direction, types=types)
    return cascade.scan(text, direction, types=types)
