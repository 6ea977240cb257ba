"""The customer-service scenario: run it with `proctor demo` or `python scenario.py`.

A support agent works for two people: alice (a support lead) and bob (an
intern whose scopes lack refunds). Every tool call is checked before it runs;
the script prints each call, the audit trail and the chain verification.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import content  # noqa: E402
import guardrails  # noqa: E402
from tools import delete_customer, lookup_order, process_refund, send_email  # noqa: E402

from proctor import Proctor, ToolCallBlocked  # noqa: E402
from proctor.clock import ManualClock  # noqa: E402

STYLES = {"allow": "green", "deny": "red", "require_approval": "yellow"}
NEW_YORK = ZoneInfo("America/New_York")


def run(db: str | None = None, console: Console | None = None) -> bool:
    """Play the scenario; returns True when the audit chain verifies."""
    out = console or Console(highlight=False, width=None if sys.stdout.isatty() else 110)
    clock = ManualClock(datetime(2026, 11, 24, 10, 30, tzinfo=NEW_YORK))  # a Tuesday morning
    steps: list[tuple[str, str, Callable[[], Any], str]] = [
        ("alice", "lookup_order A-1001", lambda: lookup_order("A-1001"), "10:30"),
        ("alice", "process_refund A-1001 $40", lambda: process_refund("A-1001", 40), "10:31"),
        ("alice", "process_refund A-1002 $250", lambda: process_refund("A-1002", 250), "10:32"),
        ("alice", "process_refund A-1003 $5,000", lambda: process_refund("A-1003", 5000), "10:33"),
        ("alice", "send_email (10:34)", lambda: send_email("c@x.example", "Your refund"), "10:34"),
        ("alice", "send_email (22:15)", lambda: send_email("c@x.example", "Late reply"), "22:15"),
        ("alice", "delete_customer C-77", lambda: delete_customer("C-77"), "22:16"),
        ("bob", "process_refund A-1004 $20", lambda: process_refund("A-1004", 20), "22:17"),
    ]
    calls = Table(
        title="tool calls by support-bot (role support, tier verified)", title_justify="left"
    )
    for column in ("time", "user", "call", "effect", "reason"):
        calls.add_column(column, overflow="fold")
    guardrails.fresh_state(db)
    with Proctor.from_config(HERE / "proctor.yaml", audit=db, clock=clock) as guard:
        for user, label, call, at in steps:
            hour, minute = (int(part) for part in at.split(":"))
            clock.set(datetime(2026, 11, 24, hour, minute, tzinfo=NEW_YORK))
            with guard.session(user=user, run_id="demo-run"):
                try:
                    call()
                    effect, reason = "allow", "ran"
                except ToolCallBlocked as blocked:
                    effect, reason = blocked.decision.effect.value, blocked.decision.reason
            if effect == "allow":
                reason = "ran the tool"
            calls.add_row(at, user, label, f"[bold {STYLES[effect]}]{effect}[/]", reason)
        out.print(calls)
        guard.runtime.audit.flush()
        records = guard.runtime.audit.tail(len(steps))
        trail = Table(
            title="audit trail: user → agent → action → effect → rule", title_justify="left"
        )
        for column in ("seq", "user", "agent", "action", "args", "effect", "rule"):
            trail.add_column(column, overflow="fold", no_wrap=column in ("seq", "effect"))
        for record in records:
            args = " ".join(f"{k}={v}" for k, v in record["args"].items() if k != "currency")
            trail.add_row(
                str(record["seq"]),
                record["user"]["sub"],
                record["agent"]["id"],
                record["action"],
                args,
                f"[{STYLES[record['effect']]}]{record['effect']}[/]",
                ", ".join(record["rule_ids"]) or record["code"],
            )
        out.print(trail)
        guardrails.play(guard, clock, out)  # budgets, run ceilings, approvals
        content.play(guard, clock, out)  # masked results, tainted values
        guard.runtime.audit.flush()
        report = guard.runtime.audit.verify()
    if report.ok:
        out.print(f"[green]audit chain verified[/]: {report.checked} records intact")
    else:
        out.print(f"[red]audit chain broken[/] at record {report.first_bad_seq}: {report.problem}")
    return report.ok


if __name__ == "__main__":
    sys.exit(0 if run(sys.argv[1] if len(sys.argv) > 1 else None) else 1)
