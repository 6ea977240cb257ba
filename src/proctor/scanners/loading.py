"""Loading scanners into a cascade.

Scanners are found through the ``proctor.scanners`` entry-point group, the
built-in ones included, so a third-party package adds a scanner by declaring
an entry point that names a factory taking no arguments. A factory that
declares ``optional = True`` (it needs an extra install, a model or a service)
is left out of the default set and loaded only by name. Optional scanners that
take options (``presidio``, ``judge``) are built by ``configured_scanners``.

No I/O beyond reading the entry points: a judge behind a URL is built by the
``http_judge`` factory the caller passes (``proctor.sdk.scanning`` and the
runtime pass ``proctor.judge_http.http_judge``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from proctor.scanners import ENTRY_POINT_GROUP, Cascade, Scanner
from proctor.scanners.cascade import DEFAULT_BUDGET_MS, FailMode
from proctor.scanners.errors import (
    INVALID_SCANNER,
    INVALID_SCANNER_OPTIONS,
    SCANNER_LOAD_FAILED,
    ScanError,
)
from proctor.scanners.options import (
    ALIASES,
    OPTIONAL_SCANNERS,
    HttpJudgeFactory,
    build_optional_scanner,
    build_pii_scanner,
)

__all__ = [
    "build_cascade",
    "build_optional_scanner",
    "configured_scanners",
    "default_cascade",
    "load_scanners",
    "stage_budgets",
]

_default: Cascade | None = None
_default_lock = threading.Lock()


def load_scanners(names: Collection[str] | None = None) -> list[Scanner]:
    """Instances of the registered scanners: exactly ``names``, else the default set.

    The default set is every registered scanner whose factory does not declare
    ``optional = True``.
    """
    points = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name)
    if names is not None:
        missing = sorted(set(names) - {p.name for p in points})
        if missing:
            raise ScanError(
                f"no scanner registered as `{', '.join(missing)}`", code=INVALID_SCANNER
            )
        return [_instantiate(p, _factory(p)) for p in points if p.name in names]
    factories = [(point, _factory(point)) for point in points]
    return [_instantiate(p, f) for p, f in factories if not getattr(f, "optional", False)]


def configured_scanners(
    names: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any] | None] | None = None,
    *,
    http_judge: HttpJudgeFactory | None = None,
) -> list[Scanner]:
    """The scanners of a ``scanning:`` section: ``names`` (the default set when absent);
    the optional ones that take options (``presidio``, ``judge``) are built from
    ``options[name]``, and ``pii`` from ``options["pii"]`` (its phone regions). Options
    for a scanner not named are an error, not ignored.
    """
    options = dict(options or {})
    pii = options.pop("pii", None)
    if pii is not None and names is not None and "pii" not in names:
        raise ScanError(
            "options given for `pii`, which is not in the scanner list",
            code=INVALID_SCANNER_OPTIONS,
        )
    scanners = _configured(names, options, http_judge)
    if pii is None:
        return scanners
    return [build_pii_scanner(pii) if s.name == "pii" else s for s in scanners]


def _configured(
    names: Sequence[str] | None,
    options: Mapping[str, Mapping[str, Any] | None],
    http_judge: HttpJudgeFactory | None,
) -> list[Scanner]:
    wanted = {ALIASES.get(n, n) for n in names or ()}
    stray = sorted(k for k in options if ALIASES.get(k, k) not in wanted)
    if stray:
        raise ScanError(
            f"options given for `{', '.join(stray)}`, which is not in the scanner list",
            code=INVALID_SCANNER_OPTIONS,
        )
    if names is None:
        return load_scanners()
    built = [n for n in names if ALIASES.get(n, n) in OPTIONAL_SCANNERS]
    registered = [n for n in names if n not in built]
    scanners = load_scanners(registered) if registered else []
    for name in built:
        section = options.get(name, options.get(ALIASES.get(name, name)))
        scanners.append(build_optional_scanner(name, section, http_judge=http_judge))
    return scanners


def _factory(point: EntryPoint) -> Callable[[], object]:
    try:
        factory: Callable[[], object] = point.load()
    except Exception as exc:
        raise ScanError(
            f"scanner `{point.name}` could not be loaded from `{point.value}`",
            code=SCANNER_LOAD_FAILED,
        ) from exc
    return factory


def _instantiate(point: EntryPoint, factory: Callable[[], object]) -> Scanner:
    try:
        scanner = factory()
    except ScanError:
        raise  # already says what is missing and how to get it
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
    budget_ms: float | Mapping[str, float] = 25.0,
    options: Mapping[str, Mapping[str, Any] | None] | None = None,
    http_judge: HttpJudgeFactory | None = None,
) -> Cascade:
    """A cascade of the named scanners (``configured_scanners``) timed by the process's
    monotonic clock.

    A stage's budget is ``budget_ms[name]`` when given, else the scanner's own
    ``budget_ms`` when it declares one (the slow optional stages), else ``budget_ms``.
    """
    scanners = configured_scanners(
        list(names) if names is not None else None, options, http_judge=http_judge
    )
    return Cascade(
        scanners,
        timer=time.perf_counter,
        budget_ms=stage_budgets(scanners, budget_ms),
        fail_mode=fail_mode,
    )


def stage_budgets(
    scanners: Sequence[Scanner], budget_ms: float | Mapping[str, float]
) -> dict[str, float]:
    """Each stage's budget: by name, else the scanner's own, else the one for all."""
    given = budget_ms if isinstance(budget_ms, Mapping) else {}
    fallback = DEFAULT_BUDGET_MS if isinstance(budget_ms, Mapping) else budget_ms
    return {s.name: float(given.get(s.name, getattr(s, "budget_ms", fallback))) for s in scanners}


def default_cascade() -> Cascade:
    global _default
    with _default_lock:
        if _default is None:
            _default = build_cascade()
        return _default
