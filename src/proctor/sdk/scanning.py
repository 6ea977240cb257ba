"""Scanning from Python: ``proctor.scan(text, direction=...)``.

A thin edge over ``proctor.scanners.loading`` (entry points of the
``proctor.scanners`` group, the built-ins included): the same functions, with
the HTTP client a judge behind a ``url`` needs (``proctor.judge_http``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from proctor.judge_http import http_judge
from proctor.scanners import Cascade, Direction, Scanner, ScanResult, loading
from proctor.scanners.cascade import FailMode

# the loaders that need no judge, as they are (explicit re-exports)
from proctor.scanners.loading import default_cascade as default_cascade
from proctor.scanners.loading import load_scanners as load_scanners
from proctor.scanners.loading import stage_budgets as stage_budgets


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


def build_cascade(
    names: Collection[str] | None = None,
    *,
    fail_mode: FailMode | str = FailMode.OPEN,
    budget_ms: float | Mapping[str, float] = 25.0,
    options: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> Cascade:
    """``proctor.scanners.loading.build_cascade``, able to call a judge over HTTP."""
    return loading.build_cascade(
        names, fail_mode=fail_mode, budget_ms=budget_ms, options=options, http_judge=http_judge
    )


def configured_scanners(
    names: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> list[Scanner]:
    """``proctor.scanners.loading.configured_scanners``, able to call a judge over HTTP."""
    return loading.configured_scanners(names, options, http_judge=http_judge)


def build_optional_scanner(name: str, options: Mapping[str, Any] | None = None) -> Scanner:
    """``proctor.scanners.options.build_optional_scanner``, able to call a judge over HTTP."""
    return loading.build_optional_scanner(name, options, http_judge=http_judge)
