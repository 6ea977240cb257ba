"""Content in the scenario: a card number masked in a result, and an IBAN from a document held.

Played by ``scenario.run`` after the guardrails, on the same ``Proctor`` and
clock. Dana asked for a refund of order A-3001 to the account on file; the
agent reads her attachment, which carries an injected instruction and an IBAN
that is not hers. Paying to that IBAN waits for a person, because the value
came only from untrusted content; paying to the IBAN Dana gave passes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table
from tools import lookup_customer, read_document, refund_to_account

from proctor import Proctor, ToolCallBlocked
from proctor.clock import ManualClock
from proctor.sdk import ApprovalRequired

STYLES = {"allow": "green", "deny": "red", "require_approval": "yellow"}
TASK = "Refund order A-3001 ($80) to my account DE89 3704 0044 0532 0130 00. Dana"
INJECTED_IBAN = "GB82WEST12345698765432"
DANAS_IBAN = "DE89370400440532013000"


def play(guard: Proctor, clock: ManualClock, out: Console) -> None:
    table = Table(
        title="content: results masked, untrusted values tracked (run ticket-3001)",
        title_justify="left",
    )
    for column in ("call", "effect", "what the agent got or why not"):
        table.add_column(column, overflow="fold")

    def step(label: str, call: object) -> None:
        clock.set(clock() + timedelta(seconds=20))
        try:
            result = call()  # type: ignore[operator]
            table.add_row(label, "[bold green]allow[/]", str(result))
        except ApprovalRequired as held:
            table.add_row(label, "[bold yellow]require_approval[/]", held.decision.reason)
        except ToolCallBlocked as blocked:
            table.add_row(label, "[bold red]deny[/]", blocked.decision.reason)

    # this part runs on the real clock, so its held payment is still pending after the demo:
    # approve it in the dashboard (`proctor serve`, /ui) or with `proctor approvals approve`
    clock.set(datetime.now(UTC))
    with guard.run("ticket-3001", user="dave", task=TASK):
        step("lookup_customer C-88", lambda: lookup_customer("C-88"))
        step("read_document invoice.pdf", lambda: read_document("invoice.pdf"))
        step(
            "refund_to_account A-3001 → IBAN from the document",
            lambda: refund_to_account("A-3001", INJECTED_IBAN, 80),
        )
        step(
            "refund_to_account A-3001 → IBAN Dana gave",
            lambda: refund_to_account("A-3001", DANAS_IBAN, 80),
        )
    out.print(table)
    guard.runtime.audit.flush()
    for record in guard.runtime.audit.tail(8):
        if record["kind"] == "output" and record["extra"].get("tool") == "read_document":
            found = sorted({f["type"] for f in record["extra"].get("findings", ())})
            out.print(
                f"the record of read_document's result (seq {record['seq']}) keeps its digest "
                f"and what was found in it: {', '.join(found)}"
            )
