"""Scanning from Python: ``proctor.scan(text, direction=...)``, and loading scanners.

Scanners are found through the ``proctor.scanners`` entry-point group, the
built-in ones included, so a third-party package adds a scanner by declaring
an entry point that names a factory taking no arguments.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from importlib.metadata import EntryPoint, entry_points

from proctor.scanners import ENTRY_POINT_GROUP, Cascade, Direction, Scanner, ScanResult
from proctor.scanners.cascade import FailMode
from proctor.scanners.errors import INVALID_SCANNER, SCANNER_LOAD_FAILED, ScanError

_default: Cascade | None = None
_default_lock = threading.Lock()


def load_scanners(names: Collection[str] | None = None) -> list[Scanner]:
    """Instances of the registered scanners (only ``names`` when given)."""
    points = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name)
    if names is not None:
        missing = sorted(set(names) - {p.name for p in points})
        if missing:
            raise ScanError(
                f"no scanner registered as `{', '.join(missing)}`", code=INVALID_SCANNER
            )
        points = [p for p in points if p.name in names]
    return [_instantiate(point) for point in points]


def _instantiate(point: EntryPoint) -> Scanner:
    try:
        scanner = point.load()()
    except Exception as exc:
        raise ScanError(
            f"scanner `{point.name}` could not be loaded from `{point.value}`",
            code=SCANNER_LOAD_FAILED,
        ) from exc
    if not isinstance(scanner, Scanner):
        raise ScanError(
            f"scanner `{point.name}` does not provide name, cost, types and scan()",
            code=INVALID_SCANNER,
        )
    return scanner


def build_cascade(
    names: Collection[str] | None = None,
    *,
    fail_mode: FailMode | str = FailMode.OPEN,
    budget_ms: float = 25.0,
) -> Cascade:
    """A cascade of the registered scanners timed by the process's monotonic clock."""
    return Cascade(
        load_scanners(names), timer=time.perf_counter, budget_ms=budget_ms, fail_mode=fail_mode
    )


def default_cascade() -> Cascade:
    global _default
    with _default_lock:
        if _default is None:
            _default = build_cascade()
        return _default


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
