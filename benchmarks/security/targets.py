"""Target rows: a measured value, its target and whether it is met; printed and as markdown."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PASS, FAIL, MISSING, INFO = "pass", "FAIL", "not available", "info"


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    metric: str
    value: float | None
    unit: str  # "%" (value is a share), "ms", "MB"
    target: str  # e.g. ">= 95 %"; "" for a reported-only number
    status: str
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "%":
            return f"{self.value * 100:.1f} %"
        return f"{self.value:.2f} {self.unit}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_least(section: str, metric: str, value: float | None, share: float, note: str = "") -> Row:
    return _row(
        section,
        metric,
        value,
        "%",
        f">= {share * 100:g} %",
        value is not None and value >= share,
        note,
    )


def at_most(
    section: str, metric: str, value: float | None, limit: float, unit: str = "%", note: str = ""
) -> Row:
    shown = f"<= {limit * 100:g} %" if unit == "%" else f"<= {limit:g} {unit}"
    return _row(section, metric, value, unit, shown, value is not None and value <= limit, note)


def missing(section: str, metric: str, target: str, why: str) -> Row:
    return Row(section, metric, None, "", target, MISSING, why)


def info(section: str, metric: str, value: float | None, unit: str = "%", note: str = "") -> Row:
    return Row(section, metric, value, unit, "", INFO, note)


def _row(
    section: str, metric: str, value: float | None, unit: str, target: str, ok: bool, note: str
) -> Row:
    if value is None:
        return Row(section, metric, None, unit, target, MISSING, note or "no samples")
    return Row(section, metric, value, unit, target, PASS if ok else FAIL, note)


def print_table(rows: list[Row], notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="proctor content scanning: security bench")
    for header in ("section", "metric", "value", "target", "status", "note"):
        table.add_column(header, overflow="fold")
    colours = {PASS: "green", FAIL: "red", MISSING: "yellow", INFO: "cyan"}
    for row in rows:
        status = f"[{colours[row.status]}]{row.status}[/]"
        table.add_row(row.section, row.metric, row.shown(), row.target, status, row.note)
    console = Console(width=200)
    console.print(table)
    for note in notes:
        console.print(f"  - {note}", highlight=False)


def markdown(rows: list[Row]) -> str:
    lines = ["| section | metric | value | target | status |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| {r.section} | {r.metric} | {r.shown()} | {r.target or '-'} | {r.status} |" for r in rows
    ]
    return "\n".join(lines) + "\n"
