"""What the recent audit says about rules, limits, runs and agents (the dashboard's summaries).

Everything is counted over the newest ``WINDOW`` records, one indexed read:
the pages stay quick on a large trail, and say which window they show.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

WINDOW = 5000
_LIMIT_USE = re.compile(
    r"^limit `(?P<id>[^`]+)`(?: for (?P<who>.+?))?: (?P<used>[\d.]+) of (?P<max>[\d.]+) used"
)
_RUN_USE = re.compile(r"^run `(?P<run>[^`]+)` ceiling of (?P<max>\d+) tool calls: (?P<used>\d+) of")
EFFECTS = ("allow", "require_approval", "deny")


@dataclass
class LimitSeries:
    """One limit's use for one key (a user, an agent...) over time."""

    limit_id: str
    who: str
    maximum: float
    points: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class RunSummary:
    run_id: str
    user: str | None = None
    agent: str | None = None
    first: str = ""
    last: str = ""
    calls: int = 0
    denied: int = 0
    ended: bool = False
    ceiling: int | None = None


@dataclass
class AgentActivity:
    calls: int = 0
    denied: int = 0
    last: str = ""
    last_action: str = ""


@dataclass
class Usage:
    records: int = 0
    rule_hits: Counter[str] = field(default_factory=Counter)
    shadow_denials: Counter[str] = field(default_factory=Counter)
    limits: dict[tuple[str, str], LimitSeries] = field(default_factory=dict)
    runs: dict[str, RunSummary] = field(default_factory=dict)
    agents: dict[str, AgentActivity] = field(default_factory=lambda: defaultdict(AgentActivity))
    per_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def summarize(records: Iterable[dict[str, Any]]) -> Usage:
    """Count ``records`` (oldest first) into a ``Usage``."""
    usage = Usage()
    for record in records:
        usage.records += 1
        ts = str(record.get("ts") or "")
        if record.get("kind") != "decision":
            _run_event(usage, record)
            continue
        effect = str(record.get("effect"))
        usage.per_day[ts[:10]][effect] += 1
        for rule_id in record.get("rule_ids") or ():
            usage.rule_hits[rule_id] += 1
        shadow = record.get("shadow")
        if isinstance(shadow, dict) and shadow.get("effect") == "deny":
            for rule_id in shadow.get("rule_ids") or ["(default)"]:
                usage.shadow_denials[rule_id] += 1
        agent = (record.get("agent") or {}).get("id")
        if agent:
            activity = usage.agents[agent]
            activity.calls += 1
            activity.denied += effect == "deny"
            activity.last, activity.last_action = ts, str(record.get("action"))
        _limits(usage, record, ts)
        _run_call(usage, record, ts, effect)
    return usage


def _limits(usage: Usage, record: dict[str, Any], ts: str) -> None:
    for item in record.get("diagnostics") or ():
        if item.get("code") != "limit_usage":
            continue
        found = _LIMIT_USE.match(str(item.get("message", "")))
        if found is None:
            continue
        key = (found["id"], found["who"] or "everyone")
        series = usage.limits.get(key)
        if series is None:
            series = usage.limits[key] = LimitSeries(key[0], key[1], float(found["max"]))
        series.points.append((ts, float(found["used"])))


def _run_call(usage: Usage, record: dict[str, Any], ts: str, effect: str) -> None:
    run_id = record.get("run_id")
    if not run_id:
        return
    run = _run(usage, record, run_id, ts)
    run.calls += 1
    run.denied += effect == "deny"
    for item in record.get("diagnostics") or ():
        found = _RUN_USE.match(str(item.get("message", "")))
        if found is not None:
            run.ceiling = int(found["max"])


def _run_event(usage: Usage, record: dict[str, Any]) -> None:
    run_id = record.get("run_id")
    if record.get("kind") != "run" or not run_id:
        return
    run = _run(usage, record, run_id, str(record.get("ts") or ""))
    run.ended = run.ended or record.get("effect") == "end"


def _run(usage: Usage, record: dict[str, Any], run_id: str, ts: str) -> RunSummary:
    run = usage.runs.get(run_id)
    if run is None:
        run = usage.runs[run_id] = RunSummary(run_id, first=ts)
    run.user = run.user or (record.get("user") or {}).get("sub")
    run.agent = run.agent or (record.get("agent") or {}).get("id")
    run.last = ts
    return run
