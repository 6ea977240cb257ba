"""``proctor approvals list|approve|reject``: decide the calls held for a human.

The CLI writes the state database itself, so whoever runs it is an operator
of that database: ``--as`` names the approver (checked against the rule's
``approvers`` like any other), and the record says the decision came from the
CLI, with the operating-system account that ran it.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from proctor.cli.loading import DEFAULT_DB, audit_location, database_override
from proctor.cli.operator import cli_credential
from proctor.cli.output import console, print_json
from proctor.config import DEFAULT_CONFIG_NAME, load_config
from proctor.errors import ProctorError
from proctor.runtime import build_runtime
from proctor.runtime.approvals import ApprovalDesk

_db = click.option("--db", help="Audit database (the state file sits beside it).")
_config = click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_as = click.option(
    "--as", "approver", required=True, help="Who decides (a user of the config); recorded as such."
)
_reason = click.option("--reason", help="Why; goes into the audit record.")


def open_desk(config: str | None, db: str | None) -> ApprovalDesk:
    """A desk over the configured stores; users (and their roles) come from the config."""
    if config or Path(DEFAULT_CONFIG_NAME).is_file():
        loaded = load_config(config or DEFAULT_CONFIG_NAME)
        return ApprovalDesk(build_runtime(loaded, audit=database_override(db)))
    return ApprovalDesk(build_runtime(audit=audit_location(config, db) or DEFAULT_DB))


@click.group()
def approvals() -> None:
    """List, approve and reject calls waiting for a human approval."""


@approvals.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "rejected", "consumed", "all"]),
    default="pending",
    show_default=True,
)
@_db
@_config
@_json
def list_command(status: str, db: str | None, config: str | None, as_json: bool) -> None:
    """Print approvals, newest first."""
    location = audit_location(config, db)  # read an existing database, never create one
    local = location not in (":memory:", "memory") and "://" not in location
    if local and not Path(location).exists():
        raise ProctorError(f"no audit database at `{location}`", code="storage_not_found")
    desk = open_desk(config, db)
    try:
        now = desk.runtime.clock()
        found = desk.list(None if status == "all" else status)
    finally:
        desk.runtime.close()
    if as_json:
        print_json([item.to_dict(now) for item in found])
        return
    table = Table(title=f"approvals ({status})", title_justify="left")
    for column in ("id", "status", "user", "agent", "action", "args", "approvers", "expires"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(
            item.approval_id,
            item.state(now),
            item.user or "-",
            item.agent,
            item.action,
            " ".join(
                [f"resource={item.resource}"] * (item.resource is not None)
                + [f"{k}={v}" for k, v in item.args.items()]
            ),
            ", ".join(item.approvers) or "anyone",
            item.expires_at.isoformat(timespec="seconds"),
        )
    console.print(table)


def _decision_command(approve: bool, summary: str) -> click.Command:
    """``approve`` or ``reject``: the same options, and one record of who decided."""
    verb = "approved" if approve else "rejected"

    @approvals.command("approve" if approve else "reject", help=summary)
    @click.argument("approval_id")
    @_as
    @_reason
    @_db
    @_config
    @_json
    def decide(
        approval_id: str,
        approver: str,
        reason: str | None,
        db: str | None,
        config: str | None,
        as_json: bool,
    ) -> None:
        _require_state_database(audit_location(config, db))
        desk = open_desk(config, db)
        credential = cli_credential(**{"as": approver})
        try:
            decided = desk.decide(
                approval_id, approve=approve, by=approver, reason=reason, credential=credential
            )
            now = desk.runtime.clock()
        finally:
            desk.runtime.close()
        if as_json:
            print_json(decided.to_dict(now))
            return
        console.print(
            f"[bold]{verb}[/] {decided.approval_id}: `{decided.action}` for "
            f"`{decided.user}` by `{decided.agent}`",
            markup=True,
        )

    return decide


approve = _decision_command(True, "Let the held call through, once.")
reject = _decision_command(False, "Refuse the held call; it never passes.")


def _require_state_database(location: str) -> None:
    """Decisions go to an existing state database: never to a fresh or in-memory one."""
    if location.startswith(("postgresql://", "postgres://")):
        return
    path = location.removeprefix("sqlite:///")
    if path in (":memory:", "memory", "memory://") or not Path(path).is_file():
        raise ProctorError(
            f"no state database at `{location}`: pass the gateway's `--db` or `--config`",
            code="no_state_database",
        )
