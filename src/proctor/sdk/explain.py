"""``explain``: a plain-language account of one recorded decision.

Reads only the audit record (and, when given, the approvals it names): who
asked, the agent and its delegation chain, the scopes held, the rules and
limits that decided, the counters at the time and the approvals involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from proctor.limits.approvals import Approval

_LIMIT_CODES = ("limit_usage", "limit_exceeded", "run_ceiling", "run_loop")
_APPROVAL_CODES = ("approval_pending", "approved")
_HELD_BACK = {
    "limit_exceeded": "then a limit",
    "limit_value_invalid": "then a limit that could not count the call",
    "run_ceiling": "then a ceiling of its run",
    "run_loop": "then the loop guard of its run",
    "run_ended": "then the end of its run",
    "approved": "an approval",
}
_EFFECT_WORDS = {
    "allow": "allowed",
    "deny": "denied",
    "require_approval": "held for a human approval",
}


def approval_ids(record: Mapping[str, Any]) -> list[str]:
    """The approvals a decision record names (opened or used)."""
    return [
        str(item["rule_id"])
        for item in record.get("diagnostics") or ()
        if item.get("code") in _APPROVAL_CODES and item.get("rule_id")
    ]


def explain(
    record: Mapping[str, Any], approvals: Mapping[str, Approval] | None = None
) -> list[str]:
    """The lines of the account, in reading order."""
    lines: list[str] = []
    effect = str(record.get("effect"))
    kind = record.get("kind")
    if kind != "decision":
        lines.append(
            f"Record `{record.get('decision_id')}` is a `{kind}` record: {record.get('reason')}."
        )
        return lines
    lines.append(
        f"On {record.get('ts')} the call `{record.get('action')}` was "
        f"{_EFFECT_WORDS.get(effect, effect)} (decision `{record.get('decision_id')}`)."
    )
    user = record.get("user")
    if user:
        claims = ", ".join(f"{k}={v}" for k, v in sorted((user.get("claims") or {}).items()))
        lines.append(f"User: `{user.get('sub')}`" + (f" ({claims})." if claims else "."))
    else:
        lines.append("User: none was named.")
    agent = record.get("agent") or {}
    tags = ", ".join(agent.get("tags") or []) or "none"
    role = f"role `{agent['role']}`" if agent.get("role") else "no role"
    lines.append(f"Agent: `{agent.get('id')}`, {role}, tier `{agent.get('tier')}`, tags: {tags}.")
    chain = record.get("delegation") or []
    if chain:
        hops = " -> ".join(f"`{hop.get('sub') or hop.get('id') or hop}`" for hop in chain)
        lines.append(f"Delegation chain: {hops}.")
    if record.get("run_id"):
        lines.append(f"Run: `{record['run_id']}`.")
    args = record.get("args") or {}
    if args:
        shown = ", ".join(f"{k}={v!r}" for k, v in args.items())
        lines.append(f"Arguments: {shown}.")
    scopes = record.get("effective_scopes") or []
    lines.append("Scopes held: " + (", ".join(f"`{s}`" for s in scopes) or "none") + ".")
    rules = record.get("rule_ids") or []
    code = record.get("code")
    named = ", ".join(f"`{r}`" for r in rules)
    if rules and code in _HELD_BACK:
        lines.append(f"The rules let it through ({named}); {_HELD_BACK[code]} decided.")
    elif rules:
        lines.append(f"Rules that decided: {named}.")
    else:
        lines.append(f"No rule decided (code `{record.get('code')}`).")
    lines.append(f"Reason: {record.get('reason')}.")
    diagnostics = record.get("diagnostics") or []
    counters = [d for d in diagnostics if d.get("code") in _LIMIT_CODES]
    if counters:
        lines.append("Limits and counters at the time:")
        lines.extend(f"  - {item.get('message')}" for item in counters)
    for approval_id in approval_ids(record):
        found = (approvals or {}).get(approval_id)
        if found is None:
            lines.append(f"Approval `{approval_id}` (no longer in the store).")
            continue
        state = "approved" if found.status.value == "consumed" else found.status.value
        who = f" by `{found.decided_by}`" if found.decided_by else ""
        why = f" ({found.reason})" if found.reason else ""
        used = " and used once" if found.status.value == "consumed" else ""
        expires = found.expires_at.astimezone(UTC).isoformat(timespec="seconds")
        lines.append(
            f"Approval `{approval_id}`: {state}{who}{why}{used}; "
            f"approvers: {', '.join(found.approvers) or 'anyone'}; "
            f"expires {expires.replace('+00:00', 'Z')}."
        )
    shadow = record.get("shadow")
    if shadow:
        would = _EFFECT_WORDS.get(shadow.get("effect"), shadow.get("effect"))
        lines.append(
            "Shadow (audit-mode policies, not enforced): "
            f"would have been {would}: {shadow.get('reason')}."
        )
    digest = (record.get("extra") or {}).get("policy_digest")
    if digest:
        lines.append(
            f"Policy set: `{digest}` (its texts: `proctor policy show --digest {digest}`)."
        )
    others = [d for d in diagnostics if d.get("code") not in (*_LIMIT_CODES, *_APPROVAL_CODES)]
    for item in others:
        lines.append(f"Note ({item.get('code')}): {item.get('message')}.")
    return lines
