"""Replay: re-decide recorded requests under other policies and report what would change.

Only the rules are replayed: limits, run ceilings and approvals depend on
counters and people at the time, so a recorded call held back by them is
compared by what its rules said (a call denied by a limit had rules that
allowed it). Records decided before the policies (unknown agent, invalid
request, missing scope, rejected token) are not replayed and are counted
apart, as are other kinds of record (runs, approvals). Context values are
not recorded: a rule that needs one cannot be evaluated on replay, and such
calls are counted as ``incomplete``.

The recorded inputs are replayed as they were: the scanners' findings, the
taint of each argument and the input scan's verdict. What a record does not
hold (arguments it keeps redacted or as a digest, a run's counters, the
findings of a scan that did not run) cannot be reproduced: a call whose
outcome would change and whose new policies read such an input is counted
under ``unreproducible`` with the input named, never as a change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from proctor.audit.chain import StoredRow
from proctor.model.decision import AUDIT_UNAVAILABLE, STATE_UNAVAILABLE
from proctor.model.request import Agent, CheckRequest, RunState, User
from proctor.model.tiers import Tier
from proctor.policy import CompiledPolicySet
from proctor.policy.scan_rules import ScanPlan
from proctor.runtime.scanning import combine

# Effects the rules gave, for records whose final effect came from the limits.
_RULES_ALLOWED = frozenset(
    {"limit_exceeded", "limit_value_invalid", "run_ceiling", "run_loop", "run_ended"}
)
_RULES_ASKED_APPROVAL = frozenset({"approved", "approval_pending"})
_NOT_REPLAYED = frozenset(
    {
        "unknown_agent",
        "invalid_request",
        "scope_missing",
        AUDIT_UNAVAILABLE,
        STATE_UNAVAILABLE,
        "run_not_owned",
        "provenance_unavailable",
        "scan_unavailable",
        "mcp_notification_refused",  # the MCP proxy's refusals, whatever the policies say
        "mcp_tool_withheld",
        "mcp_prompt_withheld",
        "mcp_resource_withheld",
        "mcp_look_alike",
    }
)
# What a record cannot give back, by the input a policy would read.
UNREPRODUCIBLE = {
    "args": "arguments the record keeps redacted or as a digest",
    "run": "a run's counters (tool calls, elapsed time, spend)",
    "findings": "findings of types the call was not scanned for when it was made",
}
_RUN_COUNTERS = ("run.tool_calls", "run.elapsed", "run.spend")
CHANGE_NAMES = {
    "deny": "newly denied",
    "allow": "newly allowed",
    "require_approval": "newly needing approval",
}


@dataclass(frozen=True, slots=True)
class ReplayedCall:
    decision_id: str
    ts: str
    action: str
    user: str | None
    agent: str | None
    args: dict[str, Any]
    before: str
    after: str
    reason: str


@dataclass(slots=True)
class ReplayReport:
    examined: int = 0
    replayed: int = 0
    unchanged: int = 0
    not_replayed: Counter[str] = field(default_factory=Counter)
    incomplete: int = 0
    unreproducible: Counter[str] = field(default_factory=Counter)
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[ReplayedCall]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(self.changes.values())

    def by_outcome(self) -> dict[str, int]:
        """Counts per ``newly denied`` / ``newly allowed`` / ``newly needing approval``."""
        outcome: Counter[str] = Counter()
        for (_, after), count in self.changes.items():
            outcome[CHANGE_NAMES[after]] += count
        return dict(outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "replayed": self.replayed,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "by_outcome": self.by_outcome(),
            "changes": [
                {
                    "before": before,
                    "after": after,
                    "count": count,
                    "examples": [vars_of(call) for call in self.examples.get((before, after), [])],
                }
                for (before, after), count in sorted(self.changes.items())
            ],
            "not_replayed": dict(self.not_replayed),
            "incomplete": self.incomplete,
            "unreproducible": dict(self.unreproducible),
        }


def vars_of(call: ReplayedCall) -> dict[str, Any]:
    return {name: getattr(call, name) for name in ReplayedCall.__slots__}


def decoded(rows: Iterable[StoredRow], since: str | None = None) -> Iterator[dict[str, Any]]:
    """The records of ``rows`` (newer than ``since``, an audit timestamp), decoded."""
    for row in rows:
        if row.kind is not None and row.kind != "decision":
            continue
        if since is not None and row.ts is not None and row.ts < since:
            continue
        yield orjson.loads(row.body)


def replay(
    records: Iterable[dict[str, Any]], policies: CompiledPolicySet, *, examples: int = 3
) -> ReplayReport:
    report = ReplayReport()
    agents: dict[tuple[Any, ...], Agent] = {}
    reads = _paths_read(policies)
    for record in records:
        if record.get("kind") != "decision":
            continue
        report.examined += 1
        code = record.get("code") or ""
        if code in _NOT_REPLAYED or code.startswith("token_"):
            report.not_replayed[code] += 1
            continue
        before = _rules_effect(record, code)
        agent_view = record.get("agent") or {}
        key = (agent_view.get("id"), agent_view.get("role"), agent_view.get("tier"))
        agent = agents.get(key)
        if agent is None:
            agent = agents[key] = Agent(
                str(agent_view.get("id")),
                agent_view.get("role"),
                Tier.parse(agent_view.get("tier") or "unverified"),
                frozenset(agent_view.get("tags") or ()),
            )
        user_view = record.get("user")
        user = (
            User(str(user_view.get("sub")), (), user_view.get("claims") or {})
            if user_view
            else None
        )
        run_id = record.get("run_id")
        extra = record.get("extra") or {}
        findings = tuple(item for item in extra.get("findings") or () if isinstance(item, dict))
        request = CheckRequest(
            action=record["action"],
            agent=agent,
            now=_time(extra.get("evaluated_at") or record["ts"]),
            user=user,
            args=record.get("args") or {},
            resource=record.get("resource"),
            run=RunState(run_id) if run_id else None,
            effective_scopes=tuple(record.get("effective_scopes") or ()),
            decision_id=record["decision_id"],
            findings=findings,
            taint=extra.get("taint") or {},
        )
        decision = policies.evaluate(request)
        plan = policies.scanning.plan("input", request.action, agent)
        if plan is not None:  # the input scan's verdict, on the recorded findings
            decision = combine(decision, plan.verdict(findings))
        report.replayed += 1
        if decision.diagnostics:
            report.incomplete += 1
        after = decision.effect.value
        if after == before:
            report.unchanged += 1
            continue
        missing = _unreproducible(record, extra, reads, plan)
        if missing:
            for name in missing:
                report.unreproducible[name] += 1
            continue
        report.changes[(before, after)] += 1
        shown = report.examples.setdefault((before, after), [])
        if len(shown) < examples:
            shown.append(
                ReplayedCall(
                    record["decision_id"],
                    record["ts"],
                    record["action"],
                    user.sub if user is not None else None,
                    agent.id,
                    record.get("args") or {},
                    before,
                    after,
                    decision.reason,
                )
            )
    return report


def _paths_read(policies: CompiledPolicySet) -> frozenset[str]:
    """Every request path a condition of ``policies`` reads (`args.iban`, `run.spend`)."""
    return frozenset(
        path for rule in policies.rules for condition in rule.conditions for path in condition.paths
    )


def _unreproducible(
    record: dict[str, Any], extra: dict[str, Any], reads: frozenset[str], plan: ScanPlan | None
) -> list[str]:
    """The inputs the new policies read that this record cannot give back."""
    missing: list[str] = []
    if extra.get("args_stored"):  # no argument kept at all
        hidden: list[str] = ["args"]
    else:
        hidden = [
            "args" + str(item.get("path", "$")).removeprefix("$")
            for item in extra.get("args_redacted") or ()
            if isinstance(item, dict)
        ]
    if any(_overlaps(path, kept) for path in reads for kept in hidden):
        missing.append("args")
    if record.get("run_id") and any(
        path == "run" or path.startswith(_RUN_COUNTERS) for path in reads
    ):
        missing.append("run")
    if plan is not None and not _scanned_for(plan.types, extra.get("scanned")):
        missing.append("findings")
    return missing


def _scanned_for(wanted: frozenset[str] | None, scanned: Any) -> bool:
    """Whether the call's recorded scan (``extra.scanned``) looked for every type ``wanted``."""
    if not isinstance(scanned, list):
        return False  # no scan ran for this call
    if "*" in scanned:
        return True
    if wanted is None:
        return False
    return all(any(kind == s or kind.startswith(s + ".") for s in scanned) for kind in wanted)


def _overlaps(read: str, hidden: str) -> bool:
    """Whether reading ``read`` touches the value at ``hidden`` (one holds the other)."""
    if not (read.startswith("args") and hidden.startswith("args")):
        return False
    shorter, longer = sorted((read, hidden), key=len)
    return longer == shorter or longer.startswith((shorter + ".", shorter + "["))


def _rules_effect(record: dict[str, Any], code: str) -> str:
    if code in _RULES_ALLOWED:
        return "allow"
    if code in _RULES_ASKED_APPROVAL:
        return "require_approval"
    return str(record.get("effect"))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
