"""``proctor audit verify|tail|show|export|stream`` (and the proofs: ``audit_proofs``)."""

from __future__ import annotations

import json
import math
from typing import Any

import click
from rich.text import Text

from proctor.cli.audit_archive import archive, verify_archive
from proctor.cli.audit_export import export_command, stream_command
from proctor.cli.audit_proofs import (
    checkpoint,
    consistency,
    prove,
    public_key,
    read_source,
    verifier_for,
    verify_proof,
)
from proctor.cli.audit_report import report
from proctor.cli.audit_tail import one_line, tail
from proctor.cli.loading import audit_location, existing
from proctor.cli.output import EFFECT_STYLES, console, print_json
from proctor.errors import ProctorError
from proctor.export.records import FIELD_ORDER
from proctor.storage import open_audit_store

_db = click.option("--db", help="Audit database (default: the config's, else proctor.db).")
_config = click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def audit() -> None:
    """Read and verify the audit trail."""


audit.add_command(export_command)
audit.add_command(stream_command)
audit.add_command(tail)
for _command in (
    checkpoint,
    public_key,
    prove,
    consistency,
    verify_proof,
    report,
    archive,
    verify_archive,
):
    audit.add_command(_command)


@audit.command()
@_db
@_config
@_json
@click.option(
    "--checkpoints",
    "witnessed",
    help="Signed checkpoints to check against (a witness file or URL; `-` for stdin).",
)
@click.option("--key", help="The log's verifier key, or a file holding it (default: the config's).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=86400),
    callback=lambda _ctx, _param, value: _finite(value),
    help="PostgreSQL: seconds to wait for the database's next rows before failing "
    "(default 10; the whole check may take longer while rows keep arriving).",
)
def verify(
    db: str | None,
    config: str | None,
    as_json: bool,
    witnessed: str | None,
    key: str | None,
    timeout: float | None,
) -> None:
    """Check every shard's chain and tree, and the signed checkpoints given; exit 1 naming
    the first bad record (3 when the database fails or stops answering)."""
    from proctor.runtime.audit_proofs import verify_witnessed

    notes = read_source(witnessed) if witnessed is not None else None
    verifier = verifier_for(key, config) if notes is not None else None
    store = open_audit_store(existing(audit_location(config, db)), read_only=True)
    if timeout is not None and hasattr(store, "stall_seconds"):
        store.stall_seconds = timeout
    try:
        report = verify_witnessed(store, notes, verifier)
    finally:
        store.close()
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "first_bad_seq": report.first_bad_seq,
                "first_bad_shard": report.first_bad_shard,
                "checkpoint": report.checkpoint,
                "problem": report.problem,
            }
        )
    elif report.ok:
        covered = "" if notes is None else ", every signed checkpoint matches"
        console.print(f"[green]ok[/]: {report.checked} records, chain intact{covered}")
    else:
        where = (
            f"record {report.first_bad_seq}"
            if report.first_bad_shard in (None, 1)
            else f"record {report.first_bad_seq} of shard {report.first_bad_shard}"
        )
        if report.first_bad_seq is None:
            where = f"checkpoint {report.checkpoint}"
        console.print(f"[bold red]broken[/] at {where}: ", end="")
        console.print(report.problem, markup=False)
    if not report.ok:
        raise SystemExit(1)


def _finite(seconds: float | None) -> float | None:
    if seconds is not None and not math.isfinite(seconds):  # `nan` passes a FloatRange
        raise click.BadParameter(f"`{seconds}` is not a number of seconds")
    return seconds


@audit.command()
@click.argument("decision_id")
@_db
@_config
@_json
def show(decision_id: str, db: str | None, config: str | None, as_json: bool) -> None:
    """Print one record by decision id."""
    record = recorded(existing(audit_location(config, db)), decision_id)
    if as_json:
        print_json(record)
        return
    console.print(record_page(record), soft_wrap=True)


def record_page(record: dict[str, Any]) -> Text:
    """A record for a person: one field a line in the documented order, nested values as
    indented JSON (never Python's repr), empty fields left out (``--json`` has them all)."""
    page = Text()
    order = {key: index for index, key in enumerate(("seq", "hash", *FIELD_ORDER))}
    for key in sorted(record, key=lambda k: order.get(k, len(order))):
        value = record[key]
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, dict | list):
            shown = json.dumps(value, indent=2, ensure_ascii=False, default=str)
            shown = shown.replace("\n", "\n" + " " * 18)
        else:
            shown = one_line(value)
        page.append(f"{one_line(key):>16}  ", style="bold")
        page.append(shown, style=EFFECT_STYLES.get(shown, "") if key == "effect" else "")
        page.append("\n")
    page.rstrip()
    return page


def recorded(location: str, decision_id: str) -> dict[str, Any]:
    """The record of ``decision_id`` in the audit database at ``location`` (``not_found``)."""
    store = open_audit_store(location)
    try:
        record = store.get(decision_id)
    finally:
        store.close()
    if record is None:
        raise ProctorError(f"no record with decision id `{decision_id}`", code="not_found")
    return record


_existing = existing  # the name other commands import (explain, replay)
