"""``proctor audit archive`` and ``verify-archive``: retention of the audit log (docs/audit.md)."""

from __future__ import annotations

from pathlib import Path

import click

from proctor.cli.audit_proofs import verifier_for
from proctor.cli.loading import audit_location
from proctor.cli.output import console, print_json


@click.command("archive")
@click.option("--before", required=True, help="Archive records older than this (ISO 8601 UTC).")
@click.option("--output", required=True, type=click.Path(file_okay=False), help="A new directory.")
@click.option("--key", help="The log's verifier key, or a file holding it (default: the config's).")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def archive(
    before: str, output: str, key: str | None, db: str | None, config: str | None, as_json: bool
) -> None:
    """Move records older than --before (and covered by a signed checkpoint) to an archive."""
    from proctor.cli.loading import existing
    from proctor.runtime.audit_archive import archive as make_archive
    from proctor.storage import open_audit_store

    verifier = verifier_for(key, config)
    store = open_audit_store(existing(audit_location(config, db)))
    try:
        summary = make_archive(store, before, Path(output), verifier)  # type: ignore[arg-type]
    finally:
        store.close()
    if as_json:
        print_json(summary)
    else:
        moved = sum(summary["archived"].values())
        console.print(f"[green]archived[/] {moved} records to {output}", highlight=False)


@click.command("verify-archive")
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.option("--key", required=True, help="The log's verifier key, or a file holding it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_archive(directory: str, key: str, as_json: bool) -> None:
    """Check an archive offline with the public key; exit 1 when it does not hold."""
    from proctor.runtime.audit_archive import verify_archive as check_archive

    check = check_archive(Path(directory), verifier_for(key, None))
    if as_json:
        print_json({"ok": check.ok, "problem": check.problem})
    elif check.ok:
        console.print("[green]ok[/]: the archive's records lead to its signed checkpoint")
    else:
        console.print("[bold red]invalid[/]: ", end="")
        console.print(check.problem, markup=False)
    if not check.ok:
        raise SystemExit(1)
