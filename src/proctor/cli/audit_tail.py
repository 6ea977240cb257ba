"""``proctor audit tail``: the newest records, filtered, one line each, and ``--follow``.

A line never breaks: control characters in stored values (a user id with a
newline, an action with a terminal escape) are shown escaped, so a pipe into
``grep`` or ``wc -l`` sees one line per record.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
from rich.text import Text

from proctor.audit.chain import StoredRow
from proctor.cli.audit_export import existing
from proctor.cli.loading import audit_location
from proctor.cli.output import EFFECT_STYLES, console, print_json
from proctor.errors import ProctorError
from proctor.export.records import parse_time, record_of
from proctor.model.actions import ActionPattern, InvalidPattern, parse_pattern
from proctor.storage import open_audit_store
from proctor.storage.contracts import AuditStore

_PAGE = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class TrailFilter:
    """Which records to show: equal indexed columns, an action pattern, a start time."""

    equal: dict[str, str] = field(default_factory=dict)
    action: ActionPattern | None = None
    since: str | None = None

    def keeps(self, row: StoredRow) -> bool:
        return self.action is None or self.action.matches(row.action or "")


def trail_filter(
    *,
    kind: str | None = None,
    action: str | None = None,
    effect: str | None = None,
    user: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    now: datetime | None = None,
) -> TrailFilter:
    """The filter of ``tail``'s options; ``--action`` is an action or a pattern (``write:*``)."""
    equal = {
        column: value
        for column, value in (
            ("kind", kind),
            ("effect", effect),
            ("user_sub", user),
            ("agent_id", agent),
        )
        if value is not None
    }
    pattern: ActionPattern | None = None
    if action is not None:
        try:
            pattern = parse_pattern(action)
        except InvalidPattern as exc:
            raise ProctorError(f"`--action {action}`: {exc}", code="invalid_argument") from None
        if pattern.is_exact:
            equal["action"] = action
            pattern = None
    return TrailFilter(equal, pattern, parse_time(since, now or datetime.now(UTC)))


def newest_rows(store: AuditStore, wanted: TrailFilter, limit: int) -> list[StoredRow]:
    """The newest ``limit`` matching rows, oldest first, read backwards a page at a time."""
    found: list[StoredRow] = []
    before: int | None = None
    while len(found) < limit:
        page = _query(store, wanted, after=0, before=before, limit=_PAGE, newest_first=True)
        found.extend(row for row in page if wanted.keeps(row))
        if len(page) < _PAGE:
            break
        before = page[-1].seq
    return list(reversed(found[:limit]))


def rows_after(store: AuditStore, wanted: TrailFilter, after: int) -> Iterator[StoredRow]:
    """Every matching row past seq ``after``, in seq order."""
    while True:
        page = _query(store, wanted, after=after, before=None, limit=_PAGE, newest_first=False)
        yield from (row for row in page if wanted.keeps(row))
        if len(page) < _PAGE:
            return
        after = page[-1].seq


def follow_trail(
    store: AuditStore,
    wanted: TrailFilter,
    after: int,
    emit: Callable[[StoredRow], None],
    *,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    polls: int | None = None,
) -> None:
    """Emit each new matching record as it is committed; ``polls`` bounds the loop (tests)."""
    done = 0
    while polls is None or done < polls:
        for row in rows_after(store, wanted, after):
            emit(row)
            after = row.seq
        done += 1
        if polls is None or done < polls:
            sleep(interval)


def _query(
    store: AuditStore,
    wanted: TrailFilter,
    *,
    after: int,
    before: int | None,
    limit: int,
    newest_first: bool,
) -> list[StoredRow]:
    query = getattr(store, "query", None)
    if query is not None:  # the SQL stores: an indexed read
        rows: list[StoredRow] = query(
            wanted.equal,
            since=wanted.since,
            until=None,
            after=after,
            before=before,
            limit=limit,
            newest_first=newest_first,
        )
        return rows
    columns = {"kind", "effect", "user_sub", "agent_id", "action"}
    matching = [
        row
        for row in store.iter_rows()
        if row.seq > after
        and (before is None or row.seq < before)
        and (wanted.since is None or (row.ts or "") >= wanted.since)
        and all(getattr(row, c) == v for c, v in wanted.equal.items() if c in columns)
    ]
    return (list(reversed(matching)) if newest_first else matching)[:limit]


def one_line(text: object) -> str:
    """``text`` with control characters escaped (``\\x0a``): a record stays on one line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def record_line(record: dict[str, Any]) -> Text:
    """``seq  time  kind  decision_id  effect  action  user  agent  rules or code``."""
    user = (record.get("user") or {}).get("sub") or "-"
    agent = (record.get("agent") or {}).get("id") or "-"
    effect = str(record.get("effect") or "-")
    rules = ",".join(str(r) for r in record.get("rule_ids") or ()) or record.get("code") or "-"
    shadow = (record.get("shadow") or {}).get("effect")
    line = Text(no_wrap=True)
    line.append(f"{record.get('seq', ''):>6}  {str(record.get('ts', ''))[:19]:<19}  ")
    kind, decision_id = one_line(record.get("kind") or "-"), one_line(record.get("decision_id"))
    line.append(f"{kind:<14}  {decision_id}  ")
    line.append(f"{one_line(effect):<16}", style=f"bold {EFFECT_STYLES.get(effect, 'white')}")
    if shadow and shadow != effect:
        line.append(f"  [shadow {one_line(shadow)}]", style="bold magenta")
    line.append("  " + "  ".join(one_line(v) for v in (record.get("action") or "-", user, agent)))
    line.append(f"  {one_line(rules)}")
    return line


def _print_record(row: StoredRow, as_json: bool) -> None:
    record = record_of(row)
    if as_json:
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
    else:
        console.print(record_line(record), soft_wrap=True)
        console.file.flush()


@click.command()
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(0, 100_000))
@click.option("--kind", help="Only this kind of record (decision, output, approval...).")
@click.option("--action", help="Only this action, or a pattern (`write:*`).")
@click.option("--effect", type=click.Choice(sorted(EFFECT_STYLES)), help="Only this effect.")
@click.option("--user", help="Only this user (`sub`).")
@click.option("--agent", help="Only this agent id.")
@click.option("--since", help="Only records from this time: ISO 8601, or back from now (15m, 7d).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new records as they come.")
@click.option("--interval", default=0.5, show_default=True, type=click.FloatRange(0.01, 60))
@click.option("--db", help="Audit database (default: PROCTOR_DATABASE_URL, the config's).")
@click.option("--config", type=click.Path(dir_okay=False), help="proctor.yaml to read.")
@click.option("--json", "as_json", is_flag=True, help="JSON (a list; one object a line with -f).")
def tail(
    limit: int,
    kind: str | None,
    action: str | None,
    effect: str | None,
    user: str | None,
    agent: str | None,
    since: str | None,
    follow: bool,
    interval: float,
    db: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Print the newest records, one line each: seq, time, kind, decision id, effect, action,
    user, agent, rules."""
    wanted = trail_filter(
        kind=kind, action=action, effect=effect, user=user, agent=agent, since=since
    )
    store = open_audit_store(existing(audit_location(config, db)))
    try:
        rows = newest_rows(store, wanted, limit) if limit else []
        if as_json and not follow:
            print_json([record_of(row) for row in rows])
            return
        for row in rows:
            _print_record(row, as_json)
        if follow:
            after = rows[-1].seq if rows else store.head().seq
            follow_trail(
                store, wanted, after, lambda row: _print_record(row, as_json), interval=interval
            )
    except BrokenPipeError:  # `| head`: the reader has what it wanted; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        store.close()
