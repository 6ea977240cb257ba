"""Seeded generator of benchmark policy sets and request pools.

A policy set is a list of ``BenchRule`` values, an engine-neutral form that
``to_proctor_yaml``, ``translate_cedar`` and ``translate_rego`` turn into each
engine's language. Actions spread over many verbs and resources so that one
request matches a handful of rules, as in real policy sets:

* exact actions: ``write:refund_17``, ``read:area_3:item_2``
* area globs: ``read:area_3:*`` (about two rules per verb and area)
* verb globs: ``read:*`` (at most two per verb, always conditioned)

Conditions are numeric (``args.amount <= 100``), time
(``time.hour >= 9 AND time.hour <= 17``) and membership
(``args.region in ["eu", "us"]``, ``"vip" in args.tags``,
``args.tags contains "vip"``). Effects are allow and deny; the default is deny.

``reference_allowed`` is an independent, obviously correct evaluator of the
neutral form, used to describe the pool and as a fourth opinion in tests.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime

VERBS = (
    "read",
    "write",
    "delete",
    "update",
    "list",
    "send",
    "create",
    "approve",
    "export",
    "share",
)
NOUNS = (
    "refund",
    "order",
    "email",
    "invoice",
    "ticket",
    "customer",
    "report",
    "file",
    "payment",
    "account",
)
UNKNOWN_VERBS = ("purge", "mint", "sync")
REGIONS = ("eu", "us", "apac", "latam", "cn")
TAGS = ("vip", "new", "flagged", "internal")
THRESHOLDS = (50, 100, 250, 500, 1000)
HOUR_RANGES = ((9, 17), (8, 20), (0, 6), (18, 23))
AMOUNT_OPS = ("<=", "<", ">", ">=")
ITEMS_PER_AREA = 8
DEFAULT_SEED = 20_251_124


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition on a request attribute.

    ``kind`` is ``amount`` (``op`` one of ``<= < > >=``, ``value`` an int),
    ``hour`` (``value`` an inclusive ``(lo, hi)`` range), ``region`` (``value``
    a tuple of regions) or ``tag`` (``value`` a tag; ``op`` is ``in`` or
    ``contains``, which only changes how proctor's YAML spells it).
    """

    kind: str
    op: str
    value: int | str | tuple[int, int] | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BenchRule:
    rule_id: str
    action: str  # an exact action or a prefix glob ending in `:*`
    effect: str  # "allow" or "deny"
    conditions: tuple[Condition, ...]
    style: str  # "when" or "conditions": how proctor's YAML writes the conditions


@dataclass(frozen=True, slots=True)
class BenchRequest:
    action: str
    amount: int
    hour: int
    region: str
    tags: tuple[str, ...]

    @property
    def now(self) -> datetime:
        """A Monday at ``hour``:30 UTC (the policy sets use the UTC time zone)."""
        return datetime(2025, 1, 6, self.hour, 30, tzinfo=UTC)

    @property
    def args(self) -> dict[str, object]:
        return {"amount": self.amount, "region": self.region, "tags": list(self.tags)}


@dataclass(frozen=True, slots=True)
class Universe:
    """The actions a policy set of a given size talks about."""

    areas: int
    resources: int

    @classmethod
    def for_size(cls, rules: int) -> Universe:
        return cls(areas=max(1, rules // 60), resources=max(2, rules // 100))

    def random_action(self, rng: random.Random) -> str:
        verb = rng.choice(VERBS)
        if rng.random() < 0.5:
            return f"{verb}:{rng.choice(NOUNS)}_{rng.randrange(self.resources)}"
        return f"{verb}:area_{rng.randrange(self.areas)}:item_{rng.randrange(ITEMS_PER_AREA)}"


# -- policy sets ---------------------------------------------------------------------------


def generate_rules(count: int, seed: int = DEFAULT_SEED) -> list[BenchRule]:
    """``count`` rules: about 5% verb globs (at most 20), 35% area globs, the rest exact."""
    rng = random.Random(f"rules:{seed}:{count}")
    universe = Universe.for_size(count)
    verb_globs = max(1, min(2 * len(VERBS), count // 20))
    area_globs = round(count * 0.35)
    kinds = ["verb"] * verb_globs + ["area"] * area_globs
    kinds += ["exact"] * (count - len(kinds))
    rng.shuffle(kinds)
    verb_order = list(VERBS)
    rng.shuffle(verb_order)
    rules: list[BenchRule] = []
    verbs_used = 0
    for index, kind in enumerate(kinds):
        if kind == "verb":
            action = f"{verb_order[verbs_used % len(verb_order)]}:*"
            verbs_used += 1
            effect = "deny" if rng.random() < 0.4 else "allow"
            conditions = _conditions(rng, at_least_one=True)
        elif kind == "area":
            action = f"{rng.choice(VERBS)}:area_{rng.randrange(universe.areas)}:*"
            effect = "deny" if rng.random() < 0.25 else "allow"
            conditions = _conditions(rng, at_least_one=False)
        else:
            action = universe.random_action(rng)
            effect = "deny" if rng.random() < 0.3 else "allow"
            conditions = _conditions(rng, at_least_one=False)
        style = "when" if rng.random() < 0.5 else "conditions"
        rules.append(BenchRule(f"r{index}", action, effect, conditions, style))
    return rules


def _conditions(rng: random.Random, *, at_least_one: bool) -> tuple[Condition, ...]:
    if not at_least_one and rng.random() < 0.4:
        return ()
    count = 2 if rng.random() < 0.25 else 1
    kinds = rng.sample(("amount", "hour", "region", "tag"), count)
    return tuple(_condition(rng, kind) for kind in kinds)


def _condition(rng: random.Random, kind: str) -> Condition:
    if kind == "amount":
        return Condition("amount", rng.choice(AMOUNT_OPS), rng.choice(THRESHOLDS))
    if kind == "hour":
        return Condition("hour", "between", rng.choice(HOUR_RANGES))
    if kind == "region":
        return Condition("region", "in", tuple(sorted(rng.sample(REGIONS, rng.choice((2, 3))))))
    return Condition("tag", rng.choice(("in", "contains")), rng.choice(TAGS))


# -- request pools -------------------------------------------------------------------------


def generate_requests(
    rules: list[BenchRule], count: int, seed: int = DEFAULT_SEED
) -> list[BenchRequest]:
    """``count`` requests: 65% aimed at a rule, 20% random actions, 15% unknown verbs."""
    rng = random.Random(f"requests:{seed}:{len(rules)}:{count}")
    universe = Universe.for_size(len(rules))
    requests: list[BenchRequest] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.65 and rules:
            action = _instance(rng.choice(rules).action, universe, rng)
        elif roll < 0.85:
            action = universe.random_action(rng)
        else:
            action = f"{rng.choice(UNKNOWN_VERBS)}:{rng.choice(NOUNS)}_{rng.randrange(50)}"
        requests.append(
            BenchRequest(
                action=action,
                amount=rng.randrange(0, 1501),
                hour=rng.randrange(24),
                region=rng.choice(REGIONS),
                tags=tuple(tag for tag in TAGS if rng.random() < 0.3),
            )
        )
    return requests


def _instance(pattern: str, universe: Universe, rng: random.Random) -> str:
    """A concrete action that ``pattern`` matches."""
    if not pattern.endswith(":*"):
        return pattern
    prefix = pattern[:-1]
    if prefix.count(":") == 2:  # verb:area_N:
        return f"{prefix}item_{rng.randrange(ITEMS_PER_AREA)}"
    if rng.random() < 0.5:
        return f"{prefix}{rng.choice(NOUNS)}_{rng.randrange(universe.resources)}"
    return f"{prefix}area_{rng.randrange(universe.areas)}:item_{rng.randrange(ITEMS_PER_AREA)}"


# -- the reference semantics ---------------------------------------------------------------


def action_matches(pattern: str, action: str) -> bool:
    if pattern.endswith(":*"):
        return action.startswith(pattern[:-1]) and len(action) > len(pattern) - 1
    return pattern == action


def condition_holds(condition: Condition, request: BenchRequest) -> bool:
    value = condition.value
    if condition.kind == "amount":
        assert isinstance(value, int)
        amount = request.amount
        return {
            "<=": amount <= value,
            "<": amount < value,
            ">": amount > value,
            ">=": amount >= value,
        }[condition.op]
    if condition.kind == "hour":
        assert isinstance(value, tuple)
        low, high = value
        return bool(low <= request.hour <= high)
    if condition.kind == "region":
        assert isinstance(value, tuple)
        return request.region in value
    return value in request.tags


def matching_rules(rules: list[BenchRule], request: BenchRequest) -> list[BenchRule]:
    return [
        rule
        for rule in rules
        if action_matches(rule.action, request.action)
        and all(condition_holds(c, request) for c in rule.conditions)
    ]


def reference_allowed(rules: list[BenchRule], request: BenchRequest) -> bool:
    """Deny overrides, then allow, then the default deny."""
    effects = {rule.effect for rule in matching_rules(rules, request)}
    return "allow" in effects and "deny" not in effects


@dataclass(frozen=True, slots=True)
class PoolStats:
    requests: int
    no_candidate: int  # no rule's action matches
    candidates_mean: float  # rules whose action matches, per request
    candidates_max: int
    allowed: int
    denied_by_rule: int
    denied_by_default: int  # some rule's action matched but no condition held, or none matched
    condition_false: int  # requests where some candidate rule's condition was false


def pool_stats(
    rules: list[BenchRule], requests: list[BenchRequest]
) -> tuple[PoolStats, list[bool]]:
    """How the pool exercises the set, and the reference decision (allowed?) of each request.

    Reference semantics, O(rules x requests): about 2 s for 10,000 rules and 2,000 requests.
    """
    reference: list[bool] = []
    no_candidate = allowed = denied_by_rule = denied_default = condition_false = 0
    total = biggest = 0
    for request in requests:
        candidates = [rule for rule in rules if action_matches(rule.action, request.action)]
        total += len(candidates)
        biggest = max(biggest, len(candidates))
        if not candidates:
            no_candidate += 1
        hits = [r for r in candidates if all(condition_holds(c, request) for c in r.conditions)]
        if len(hits) < len(candidates):
            condition_false += 1
        effects = {rule.effect for rule in hits}
        reference.append("allow" in effects and "deny" not in effects)
        if "deny" in effects:
            denied_by_rule += 1
        elif "allow" in effects:
            allowed += 1
        else:
            denied_default += 1
    stats = PoolStats(
        requests=len(requests),
        no_candidate=no_candidate,
        candidates_mean=total / len(requests) if requests else 0.0,
        candidates_max=biggest,
        allowed=allowed,
        denied_by_rule=denied_by_rule,
        denied_by_default=denied_default,
        condition_false=condition_false,
    )
    return stats, reference


# -- proctor's YAML ------------------------------------------------------------------------


def proctor_condition(condition: Condition) -> str:
    value = condition.value
    if condition.kind == "amount":
        return f"args.amount {condition.op} {value}"
    if condition.kind == "hour":
        assert isinstance(value, tuple)
        return f"time.hour >= {value[0]} AND time.hour <= {value[1]}"
    if condition.kind == "region":
        assert isinstance(value, tuple)
        return f"args.region in [{', '.join(json.dumps(v) for v in value)}]"
    if condition.op == "contains":
        return f"args.tags contains {json.dumps(value)}"
    return f"{json.dumps(value)} in args.tags"


def to_proctor_yaml(rules: list[BenchRule], name: str = "bench") -> str:
    """One policy document: ``default: deny``, every rule with an id."""
    lines = [f"name: {name}", "version: 1", "default: deny", "rules:"]
    for rule in rules:
        lines.append(f"  - id: {rule.rule_id}")
        lines.append(f"    action: {json.dumps(rule.action)}")
        lines.append(f"    effect: {rule.effect}")
        texts = [proctor_condition(c) for c in rule.conditions]
        if texts and rule.style == "when":
            joined = texts[0] if len(texts) == 1 else " AND ".join(f"({t})" for t in texts)
            lines.append(f"    when: {json.dumps(joined)}")
        elif texts:
            lines.append("    conditions:")
            lines.extend(f"      - {json.dumps(text)}" for text in texts)
        if rule.effect == "deny":
            lines.append(f"    reason: {json.dumps(f'denied by benchmark rule {rule.rule_id}')}")
    return "\n".join(lines) + "\n"
