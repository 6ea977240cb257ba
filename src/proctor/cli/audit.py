"""``proctor audit verify|tail|show|export|stream``."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from proctor.cli.audit_export import export_command, stream_command
from proctor.cli.loading import audit_location
from proctor.cli.output import console, print_json, styled_effect
from proctor.errors import ProctorError
from proctor.storage import open_audit_store

_db = click.option("--db", help="Audit database (default: the config's, else proctor.db).")
_config = click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def audit() -> None:
    """Read and verify the audit trail."""


audit.add_command(export_command)
audit.add_command(stream_command)


@audit.command()
@_db
@_config
@_json
def verify(db: str | None, config: str | None, as_json: bool) -> None:
    """Check the hash chain; exit 1 naming the first bad record."""
    store = open_audit_store(_existing(audit_location(config, db)))
    try:
        report = store.verify()
    finally:
        store.close()
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
            }
        )
    elif report.ok:
        console.print(f"[green]ok[/]: {report.checked} records, chain intact")
    else:
        console.print(f"[bold red]broken[/] at record {report.first_bad_seq}: ", end="")
        console.print(report.problem, markup=False)
    if not report.ok:
        raise SystemExit(1)


@audit.command()
@click.option("-n", "--limit", default=20, show_default=True, help="How many records.")
@_db
@_config
@_json
def tail(limit: int, db: str | None, config: str | None, as_json: bool) -> None:
    """Print the newest records."""
    store = open_audit_store(_existing(audit_location(config, db)))
    try:
        records = store.tail(limit)
    finally:
        store.close()
    if as_json:
        print_json(records)
        return
    console.print(trail_table(records))


@audit.command()
@click.argument("decision_id")
@_db
@_config
@_json
def show(decision_id: str, db: str | None, config: str | None, as_json: bool) -> None:
    """Print one record by decision id."""
    store = open_audit_store(_existing(audit_location(config, db)))
    try:
        record = store.get(decision_id)
    finally:
        store.close()
    if record is None:
        raise ProctorError(f"no record with decision id `{decision_id}`", code="not_found")
    if as_json:
        print_json(record)
        return
    for key, value in record.items():
        console.print(f"[bold]{key:>16}[/]  ", end="")
        console.print(str(value), markup=False)


def trail_table(records: list[dict[str, Any]], title: str = "audit trail") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("seq", "time", "user", "agent", "action", "effect", "rule / reason"):
        table.add_column(column, overflow="fold")
    for record in records:
        user = (record.get("user") or {}).get("sub") or "-"
        agent = (record.get("agent") or {}).get("id") or "-"
        rules = ", ".join(record.get("rule_ids") or []) or record.get("code") or ""
        table.add_row(
            str(record.get("seq", "")),
            str(record.get("ts", ""))[11:19],
            user,
            agent,
            record.get("action", ""),
            styled_effect(record.get("effect", "")) + _shadow_mark(record),
            rules,
        )
    return table


def _shadow_mark(record: dict[str, Any]) -> str:
    """A shadow result that differs from the effect, shown apart: ` [shadow deny]`."""
    shadow = record.get("shadow") or {}
    effect = shadow.get("effect")
    if not effect or effect == record.get("effect"):
        return ""
    return f" [bold magenta]\\[shadow {effect}][/]"


def _existing(location: str) -> str:
    from pathlib import Path

    if (
        location not in (":memory:", "memory")
        and "://" not in location
        and not Path(location).exists()
    ):
        raise ProctorError(f"no audit database at `{location}`", code="storage_not_found")
    return location
