"""An evidence report for auditors: one period of the audit log, as a JSON-ready value.

What it holds: the period's decisions by effect, agent, user and action; the
denials and holds with their reasons; approvals with approver and reason;
agent and tier changes (revocations among them); policy changes; the signed
checkpoints that cover the period and the result of verifying the log
against them; and for sampled (or chosen) decisions the five answers: who
asked, with what permissions, what data, what was scanned and found, and the
record with its inclusion proof. ``proctor audit report`` renders it as JSON
or as one self-contained HTML page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from proctor.audit.checkpoint import parse_checkpoint
from proctor.audit.note import NoteVerifier, parse_note
from proctor.audit.proofs import verify_inclusion
from proctor.errors import ProctorError
from proctor.runtime.audit_proofs import VerifiableLog, prove, verify_witnessed

REPORT_VERSION = 1
LISTED = 1000  # rows listed per section; the totals count them all
_PAGE = 1000
_IDENTITY_KINDS = ("agent_change", "tier_change", "token_exchange")


def period_records(store: Any, since: str | None, until: str | None) -> Iterator[dict[str, Any]]:
    """The records with ``since <= ts < until``, in stored order."""
    query = getattr(store, "query", None)
    if query is None:  # the memory store: every row, filtered here
        for row in store.iter_rows():
            if (since is None or (row.ts or "") >= since) and (
                until is None or (row.ts or "") < until
            ):
                yield orjson.loads(row.body)
        return
    after = 0
    while rows := query({}, since=since, until=until, after=after, limit=_PAGE):
        for row in rows:
            yield orjson.loads(row.body)
        after = rows[-1].seq


def build_report(
    store: VerifiableLog,
    *,
    since: str | None,
    until: str | None,
    verifier: NoteVerifier | None,
    decisions: Sequence[str] = (),
    sample: int = 5,
    generated_at: str = "",
) -> dict[str, Any]:
    period = _Period()
    for record in period_records(store, since, until):
        period.add(record)
    chosen = list(decisions) or _spread(period.decided, sample)
    return {
        "v": REPORT_VERSION,
        "period": {"since": since, "until": until},
        "generated_at": generated_at,
        **period.sections(),
        "checkpoints": _checkpoints(store, since, until, verifier),
        "samples": [_five_answers(store, decision_id, verifier) for decision_id in chosen],
    }


@dataclass
class _Period:
    """What one period's records add up to: the report's counted and listed sections."""

    effects: Counter[str] = field(default_factory=Counter)
    agents: Counter[str] = field(default_factory=Counter)
    users: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    held: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    identity: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    decided: list[str] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        kind = record.get("kind")
        extra = record.get("extra") or {}
        if kind == "decision":
            effect = str(record.get("effect"))
            self.effects[effect] += 1
            self.agents[_agent(record)] += 1
            self.users[_user(record) or "(none)"] += 1
            self.actions[str(record.get("action"))] += 1
            self.decided.append(str(record.get("decision_id")))
            if effect != "allow":
                self._list("held", self.held, _line(record, "reason", "code"))
        elif kind == "approval":
            self._list("approvals", self.approvals, {
                **_line(record, "reason"),
                "approval_id": extra.get("approval_id"),
                "approver": extra.get("approver"),
                "requested_by_decision": extra.get("requested_by_decision"),
            })  # fmt: skip
        elif kind in _IDENTITY_KINDS:
            line = {**_line(record, "reason"), "kind": kind, "extra": extra}
            self._list("identity", self.identity, line)
        elif kind == "policy_change":
            self.policies.append({**_line(record, "reason"), "extra": extra})

    def _list(self, section: str, listed: list[dict[str, Any]], line: dict[str, Any]) -> None:
        self.totals[section] += 1
        if len(listed) < LISTED:
            listed.append(line)

    def sections(self) -> dict[str, Any]:
        return {
            "decisions": {
                "total": sum(self.effects.values()),
                "by_effect": dict(self.effects.most_common()),
                "by_agent": dict(self.agents.most_common()),
                "by_user": dict(self.users.most_common()),
                "by_action": dict(self.actions.most_common()),
            },
            "denials_and_holds": {"total": self.totals["held"], "listed": self.held},
            "approvals": {"total": self.totals["approvals"], "listed": self.approvals},
            "identity_changes": {"total": self.totals["identity"], "listed": self.identity},
            "policy_changes": self.policies,
        }


def _checkpoints(
    store: VerifiableLog, since: str | None, until: str | None, verifier: NoteVerifier | None
) -> dict[str, Any]:
    """The checkpoints made in the period, and the first after it (it covers the period's end)."""
    notes: list[str] = []
    covering: list[dict[str, Any]] = []
    closed = False
    after = 0
    while page := store.checkpoint_notes(after=after, limit=_PAGE):
        for number, note in page:
            notes.append(note)
            checkpoint = parse_checkpoint(parse_note(note).text)
            late = until is not None and checkpoint.time >= until
            if (since is None or checkpoint.time >= since) and not (late and closed):
                covering.append(
                    {"number": number, "time": checkpoint.time, "size": checkpoint.size}
                )
                closed = closed or late
        after = page[-1][0]
    if verifier is None or not notes:
        verdict: dict[str, Any] = {"ok": None, "problem": "no signed checkpoint to verify against"}
    else:
        report = verify_witnessed(store, "".join(n + "\n" for n in notes), verifier)
        verdict = {"ok": report.ok, "problem": report.problem, "checked": report.checked}
    return {"covering": covering, "verification": verdict}


def _five_answers(
    store: VerifiableLog, decision_id: str, verifier: NoteVerifier | None
) -> dict[str, Any]:
    located = store.locate(decision_id)
    if located is None:
        return {"decision_id": decision_id, "missing": True}
    record = orjson.loads(located[2])
    extra = record.get("extra") or {}
    proof: dict[str, Any] | None = None
    proof_ok: bool | None = False
    proof_problem: str | None = None
    try:
        proof = prove(store, decision_id)
    except ProctorError as exc:
        proof_problem = exc.message
    else:
        check = verify_inclusion(proof, verifier) if verifier is not None else None
        proof_ok = None if check is None else check.ok
        proof_problem = None if check is None else check.problem
    return {
        "decision_id": decision_id,
        "who": {
            "user": record.get("user"),
            "agent": record.get("agent"),
            "delegation": record.get("delegation"),
        },
        "permissions": {"effective_scopes": record.get("effective_scopes")},
        "data": {"args": record.get("args"), "args_digest": record.get("args_digest")},
        "scanned": {
            "scanned": extra.get("scanned"),
            "findings": extra.get("findings"),
            "taint": extra.get("taint"),
        },
        "decision": {
            key: record.get(key) for key in ("ts", "action", "effect", "rule_ids", "reason", "code")
        },
        "record": record,
        "proof": proof,
        "proof_ok": proof_ok,
        "proof_problem": proof_problem,
    }


def _spread(ids: list[str], count: int) -> list[str]:
    """``count`` ids spread evenly over ``ids`` (first and last included)."""
    if count <= 0 or not ids:
        return []
    if count >= len(ids):
        return list(ids)
    step = (len(ids) - 1) / max(count - 1, 1)
    return [ids[round(i * step)] for i in range(count)]


def _agent(record: dict[str, Any]) -> str:
    agent = record.get("agent")
    return str(agent.get("id")) if isinstance(agent, dict) else "(none)"


def _user(record: dict[str, Any]) -> str | None:
    user = record.get("user")
    return str(user.get("sub")) if isinstance(user, dict) else None


def _line(record: dict[str, Any], *fields: str) -> dict[str, Any]:
    line = {
        "decision_id": record.get("decision_id"),
        "ts": record.get("ts"),
        "effect": record.get("effect"),
        "agent": _agent(record),
        "user": _user(record),
        "action": record.get("action"),
    }
    line.update({name: record.get(name) for name in fields})
    return line
