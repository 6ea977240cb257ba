"""Guardrails in the scenario: budgets, run ceilings and an approval bound to the exact call.

Played by ``scenario.run`` after the first table, on the same ``Proctor`` and
clock. The demo replays the same day each time, so ``fresh_state`` drops the
counters, runs and approvals of an earlier demo first (the audit is kept).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from tools import lookup_order, process_refund

from proctor import Proctor, ToolCallBlocked
from proctor.clock import ManualClock
from proctor.sdk import ApprovalRequired
from proctor.sdk.runs import RunSession
from proctor.storage.sqlite.state_db import StateDatabase
from proctor.storage.state import state_location

STYLES = {"allow": "green", "deny": "red", "require_approval": "yellow"}


def play(guard: Proctor, clock: ManualClock, out: Console) -> None:
    table = Table(title="guardrails: budgets, run ceilings and approvals", title_justify="left")
    for column in ("step", "user", "call", "effect", "reason"):
        table.add_column(column, overflow="fold")

    def attempt(
        step: str, user: str, label: str, call: Callable[[], Any], run: RunSession | None
    ) -> str:
        clock.set(clock() + timedelta(seconds=30))
        # inside a run the run's session is already entered
        session = nullcontext() if run is not None else guard.session(user=user)
        approval_id = ""
        with session:
            try:
                call()
                effect, reason = "allow", "ran the tool"
            except ApprovalRequired as held:
                effect, reason = "require_approval", held.decision.reason
                approval_id = held.approval_id or ""
            except ToolCallBlocked as blocked:
                effect, reason = blocked.decision.effect.value, blocked.decision.reason
        table.add_row(step, user, label, f"[bold {STYLES[effect]}]{effect}[/]", reason)
        return approval_id

    # the next morning (a new day for the $500 budget, whose days run in UTC)
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/New_York")))
    # 1. alice's refund budget of $500 a day runs out
    for number in range(1, 7):
        order = f"A-20{number:02d}"
        attempt("budget", "alice", f"process_refund {order} $100", _refund(order, 100), None)

    # 2. a run (one ticket) hits its ceiling of 5 tool calls
    with guard.run("ticket-4711", user="alice") as ticket:
        for number in range(1, 7):
            order = f"B-{number:03d}"
            attempt("run ceiling", "alice", f"lookup_order {order}", _lookup(order), ticket)

    # 3. a $250 refund waits for a manager; approved once, for exactly that call
    held = attempt("approval", "dave", "process_refund C-3001 $250", _refund("C-3001", 250), None)
    attempt("approval", "dave", "process_refund C-3001 $260", _refund("C-3001", 260), None)
    guard.approvals.approve(held, by="carol", reason="long-standing customer")
    table.add_row(
        "approval",
        "carol",
        f"approvals.approve({held[:8]}…) — from a shell: proctor approvals approve ID --as carol",
        "[bold green]approved[/]",
        "recorded in the audit with the approver and the reason",
    )
    attempt("approval", "dave", "process_refund C-3001 $250 (retry)", _refund("C-3001", 250), None)
    attempt("approval", "dave", "process_refund C-3001 $250 (again)", _refund("C-3001", 250), None)
    out.print(table)


def fresh_state(db: str | None) -> None:
    """Forget the counters, runs and approvals of an earlier demo in ``db`` (not its audit)."""
    location = state_location(db) if db else None
    if location is not None and Path(location).is_file():
        database = StateDatabase(location)
        try:
            database.clear()
        finally:
            database.close()


def _refund(order: str, amount: float) -> Callable[[], Any]:
    return lambda: process_refund(order, amount)


def _lookup(order: str) -> Callable[[], Any]:
    return lambda: lookup_order(order)
