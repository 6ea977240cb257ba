"""Trust tiers that move by rule: count an agent's denials, demote it at the threshold.

Each ``TierRule`` keeps one counter per agent and fixed window in the counter
store (key ``tier|<rule id>|agent=<id>``), charged by one atomic
check-and-increment per denial with a ceiling of the rule's threshold. Only
the charge that brings the count to the threshold reports a demotion, so
concurrent denials (threads, processes, replicas) demote once per window;
later denials in the window are refused by the ceiling and report nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from proctor.limits.counters import CounterCharge
from proctor.model.tiers import Tier, TierRule
from proctor.storage.contracts import CounterStore


@dataclass(frozen=True, slots=True)
class Demotion:
    """An agent moved down by ``rule``: ``denials`` in the window starting at ``window_start``."""

    agent_id: str
    before: Tier
    after: Tier
    rule: TierRule
    denials: int
    window_start: int


def count_denial(
    counters: CounterStore,
    rules: Sequence[TierRule],
    agent_id: str,
    tier: Tier,
    now: datetime,
) -> Demotion | None:
    """Count one denial of ``agent_id`` for every rule; the demotion it triggers, if any.

    When several rules reach their threshold on the same denial the lowest
    target tier wins. A rule whose target is not below ``tier`` still counts
    but demotes nothing.
    """
    moment = int(now.timestamp())
    found: Demotion | None = None
    for rule in rules:
        start = moment - moment % rule.window_seconds
        key = f"tier|{rule.rule_id}|agent={agent_id}"
        charge = CounterCharge(key, start, rule.window_seconds, 1.0, float(rule.denials))
        result = counters.charge([charge])
        if not result.admitted or int(result.used[0]) != rule.denials:
            continue
        if rule.to.rank >= tier.rank:
            continue
        if found is None or rule.to.rank < found.after.rank:
            found = Demotion(agent_id, tier, rule.to, rule, rule.denials, start)
    return found
