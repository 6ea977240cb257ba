"""``proctor explain DECISION_ID``: one decision in plain language."""

from __future__ import annotations

import click

from proctor.cli.audit import _existing, recorded
from proctor.cli.loading import audit_location
from proctor.cli.output import console, print_json
from proctor.limits.approvals import Approval
from proctor.sdk.explain import approval_ids, explain
from proctor.storage.state import open_state_stores


@click.command("explain")
@click.argument("decision_id")
@click.option("--db", help="Audit database (default: the config's, else proctor.db).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
@click.option("--json", "as_json", is_flag=True, help="Print the lines and the record as JSON.")
def explain_command(decision_id: str, db: str | None, config: str | None, as_json: bool) -> None:
    """Explain one recorded decision: who, which agent, scopes, rules, limits, approvals."""
    location = _existing(audit_location(config, db))
    record = recorded(location, decision_id)
    approvals: dict[str, Approval] = {}
    wanted = approval_ids(record)
    if wanted:
        state = open_state_stores(location)
        try:
            for approval_id in wanted:
                found = state.approvals.get(approval_id)
                if found is not None:
                    approvals[approval_id] = found
        finally:
            state.close()
    lines = explain(record, approvals)
    if as_json:
        print_json({"decision_id": decision_id, "explanation": lines, "record": record})
        return
    for line in lines:
        console.print(line, markup=False)
