"""The cascade: scanners run cheap to expensive, each stage inside a time budget.

A scanner cannot be interrupted from inside Python, so the budget is checked
when a stage returns: a stage over its budget keeps its findings and is
reported ``over_budget``. What happens when a stage fails (raises) or runs over
budget is the caller's choice: ``FailMode.OPEN`` reports it in the stage list
only; ``FailMode.CLOSED`` also adds a ``scan.incomplete`` finding with score 1,
so a policy that denies on findings denies. Time comes from an injected
monotonic ``timer`` (seconds), never read here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from proctor.scanners.bounds import Bounds, Segment, decode, encodable, segments, strings_in
from proctor.scanners.errors import INVALID_SCANNER, ScanError
from proctor.scanners.findings import Direction, Finding, ScanResult, StageReport
from proctor.scanners.scanner import Scanner
from proctor.scanners.split import (
    JOINED_VALUES,
    across_items,
    joined_types,
    list_runs,
    value_runs,
)

Timer = Callable[[], float]
DEFAULT_BUDGET_MS = 25.0


class FailMode(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Cascade:
    """An immutable, ordered set of scanners; ``scan`` only evaluates."""

    def __init__(
        self,
        scanners: Iterable[Scanner],
        *,
        timer: Timer,
        budget_ms: float | Mapping[str, float] = DEFAULT_BUDGET_MS,
        fail_mode: FailMode | str = FailMode.OPEN,
        bounds: Bounds | None = None,
    ) -> None:
        stages = sorted(scanners, key=lambda s: (s.cost, s.name))
        names = [s.name for s in stages]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ScanError(
                f"scanner names must be unique; repeated: `{', '.join(duplicates)}`",
                code=INVALID_SCANNER,
            )
        self.stages: tuple[Scanner, ...] = tuple(stages)
        self._timer = timer
        self._budgets = {
            s.name: (
                budget_ms.get(s.name, DEFAULT_BUDGET_MS)
                if isinstance(budget_ms, Mapping)
                else budget_ms
            )
            for s in stages
        }
        self.fail_mode = FailMode(fail_mode)
        self.bounds = bounds or Bounds()

    def scan(
        self,
        text: str,
        direction: Direction | str = Direction.INPUT,
        *,
        types: Collection[str] | None = None,
    ) -> ScanResult:
        """Findings in ``text``; ``types`` (prefixes such as ``pii``) skips stages not needed."""
        return self._scan(text, Direction.parse(direction), types, self.bounds.max_chars)

    def _scan(
        self, text: str, way: Direction, types: Collection[str] | None, limit: int
    ) -> ScanResult:
        """``text`` scanned up to ``limit`` characters (what is left of the call's bound)."""
        if not text.isascii():
            text = encodable(text)
        parts, findings = segments(text, self.bounds, limit)
        reports: list[StageReport] = []
        for stage in self.stages:
            if types is not None and not _wanted(stage.types, types):
                reports.append(StageReport(stage.name, "skipped", 0.0, "not needed"))
                continue
            found, report = self._run(stage, parts, way, len(text))
            findings.extend(found)
            reports.append(report)
        findings.sort(key=lambda f: (f.start, f.end, f.type))
        return ScanResult(tuple(findings), tuple(reports))

    def scan_bytes(
        self,
        data: bytes,
        direction: Direction | str = Direction.INPUT,
        *,
        types: Collection[str] | None = None,
    ) -> ScanResult:
        """Decode (replacing invalid UTF-8, reporting it), then scan."""
        text, notes = decode(data)
        result = self.scan(text, direction, types=types)
        return ScanResult(tuple(notes) + result.findings, result.stages)

    def scan_arguments(
        self,
        arguments: Any,
        direction: Direction | str = Direction.INPUT,
        *,
        types: Collection[str] | None = None,
    ) -> ScanResult:
        """Scan every string of a nested argument tree; findings carry their ``path``.

        The bound on characters (``Bounds.max_chars``) is for the whole tree.
        """
        way = Direction.parse(direction)
        texts, findings = strings_in(arguments, self.bounds)
        reports: dict[str, StageReport] = {}
        left = self.bounds.max_chars
        for path, text in texts:
            result = self._scan(text, way, types, left)
            left = max(0, left - len(text))
            findings.extend(f.at_path(path) for f in result.findings)
            for report in result.stages:
                reports[report.scanner] = _merge(reports.get(report.scanner), report)
        found_at = {f.path for f in findings}
        runs = [  # a key or an address split over list items, a key over arguments
            *(([items], joined_types(items, types), "list items") for items in list_runs(texts)),
            *(
                (windows, joined_types(windows[0], types, JOINED_VALUES), "values")
                for windows in value_runs(texts)
            ),
        ]
        for windows, wanted, noun in runs:
            if not wanted:
                continue
            joined = ["".join(text for _, text in items) for items in windows]
            # the windows of a run in one scan, a line each: a finding within one line
            result = self._scan("\n".join(joined), way, wanted, self.bounds.max_chars)
            start, crossing = 0, set()
            for items, text in zip(windows, joined, strict=True):
                end = start + len(text)
                inside = [
                    f.shifted(-start) for f in result.findings if start <= f.start <= f.end <= end
                ]
                for found in across_items(inside, items, wanted, found_at, noun):
                    if found not in crossing:  # a pair finds what its run may have found
                        crossing.add(found)
                        findings.append(found)
                start = end + 1
            for report in result.stages:
                reports[report.scanner] = _merge(reports.get(report.scanner), report)
        return ScanResult(tuple(findings), tuple(reports.values()))

    def _run(
        self, stage: Scanner, parts: Sequence[Segment], way: Direction, length: int
    ) -> tuple[list[Finding], StageReport]:
        budget = self._budgets[stage.name]
        started = self._timer()
        found: list[Finding] = []
        try:
            for part in parts:
                scanned = stage.scan(part.text, way)
                if part.keep is not None:  # the next chunk finds these whole
                    scanned = [f for f in scanned if f.start < part.keep]
                if part.offset:
                    found.extend(f.shifted(part.offset) for f in scanned)
                else:  # most texts are one part at offset 0: no copies
                    found.extend(scanned)
        except Exception as exc:  # a broken scanner must not break the call; policy decides
            elapsed = (self._timer() - started) * 1000
            detail = f"scanner raised {type(exc).__name__}"
            return self._incomplete(stage, length, detail), StageReport(
                stage.name, "failed", elapsed, detail
            )
        elapsed = (self._timer() - started) * 1000
        if elapsed > budget:
            detail = f"took {elapsed:.1f} ms, budget {budget:g} ms"
            found.extend(self._incomplete(stage, length, detail))
            return found, StageReport(stage.name, "over_budget", elapsed, detail)
        return found, StageReport(stage.name, "ok", elapsed)

    def _incomplete(self, stage: Scanner, length: int, detail: str) -> list[Finding]:
        if self.fail_mode is FailMode.OPEN:
            return []
        return [Finding("scan.incomplete", 0, length, 1.0, stage.name, f"fail-closed: {detail}")]


def _wanted(provided: Collection[str], wanted: Collection[str]) -> bool:
    return any(
        w == p or w.startswith(p + ".") or p.startswith(w + ".") for w in wanted for p in provided
    )


def _merge(before: StageReport | None, report: StageReport) -> StageReport:
    if before is None:
        return report
    rank = {"skipped": 0, "ok": 1, "over_budget": 2, "failed": 3}
    worst = before if rank[before.status] >= rank[report.status] else report
    return StageReport(
        report.scanner, worst.status, before.elapsed_ms + report.elapsed_ms, worst.detail
    )
