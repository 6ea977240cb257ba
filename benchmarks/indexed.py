"""A plain indexed evaluator of the neutral rules: the floor proctor's engine is measured against.

It knows only what the generated sets use (exact actions and ``verb:...:*``
prefixes, four condition kinds, deny overrides allow, default deny), indexes
rules by exact action and by prefix, and evaluates conditions as closures. It
has none of proctor's generality: no policy language, no decision object, no
diagnostics, no request validation. Timed in the same rounds as proctor's
engine, interleaved with it, the ratio of the two tells how much that
generality costs per decision, a figure that holds when the machine is busy and
both slow down together, unlike a microsecond figure on its own.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from benchmarks.engines import ProctorEngine
from benchmarks.generate import BenchRequest, BenchRule, Condition
from benchmarks.measure import paired_p50_ratio

Predicate = Callable[[int, dict[str, Any]], bool]
FAST_PATH = (
    "rules indexed by exact action and by prefix once, candidates kept per action; per "
    "decision the candidates' condition closures over (hour, args), deny overrides allow"
)
_COMPARE = {"<=": operator.le, "<": operator.lt, ">": operator.gt, ">=": operator.ge}


def _predicate(condition: Condition) -> Predicate:
    value = condition.value
    if condition.kind == "amount":
        compare, limit = _COMPARE[condition.op], value
        return lambda hour, args: bool(compare(args["amount"], limit))
    if condition.kind == "hour":
        assert isinstance(value, tuple)
        low, high = value
        return lambda hour, args: low <= hour <= high  # type: ignore[operator]
    if condition.kind == "region":
        regions = frozenset(value)  # type: ignore[arg-type]
        return lambda hour, args: args["region"] in regions
    return lambda hour, args: value in args["tags"]


class IndexedEngine:
    name = "indexed"
    fast_path = FAST_PATH

    def __init__(self, rules: list[BenchRule]) -> None:
        started = time.perf_counter()
        exact: dict[str, list[tuple[bool, tuple[Predicate, ...]]]] = {}
        prefixed: dict[str, list[tuple[bool, tuple[Predicate, ...]]]] = {}
        for rule in rules:
            compiled = (rule.effect == "deny", tuple(_predicate(c) for c in rule.conditions))
            if rule.action.endswith(":*"):
                prefixed.setdefault(rule.action[:-1], []).append(compiled)
            else:
                exact.setdefault(rule.action, []).append(compiled)
        self.load_seconds = time.perf_counter() - started
        candidates_of: dict[str, tuple[tuple[bool, tuple[Predicate, ...]], ...]] = {}

        def candidates(action: str) -> tuple[tuple[bool, tuple[Predicate, ...]], ...]:
            found = list(exact.get(action, ()))
            cut = action.find(":")
            while cut != -1 and cut < len(action) - 1:  # a prefix glob needs one more character
                found += prefixed.get(action[: cut + 1], ())
                cut = action.find(":", cut + 1)
            candidates_of[action] = tuple(found)
            return candidates_of[action]

        def decide(prepared: tuple[str, datetime, dict[str, Any]]) -> bool:
            action, now, args = prepared
            found = candidates_of.get(action)
            if found is None:
                found = candidates(action)
            hour = now.hour
            allowed = False
            for is_deny, predicates in found:
                for predicate in predicates:
                    if not predicate(hour, args):
                        break
                else:
                    if is_deny:
                        return False
                    allowed = True
            return allowed

        self.decide = decide

    prepare = staticmethod(ProctorEngine.prepare)  # the same prepared request as proctor's

    @staticmethod
    def allowed(decision: bool) -> bool:
        return decision


def beside_proctor(
    rules: list[BenchRule],
    pool: list[BenchRequest],
    reference: list[bool],
    proctor_decide: Callable[[Any], Any],
    proctor_inputs: list[Any],
    *,
    rounds: int = 21,
) -> dict[str, Any]:
    """Check the floor against the reference decisions, then time proctor beside it."""
    floor = IndexedEngine(rules)
    inputs = [floor.prepare(request) for request in pool]
    mismatches = sum(
        floor.decide(prepared) != want for prepared, want in zip(inputs, reference, strict=True)
    )
    for prepared in inputs:  # warm-up, as proctor's timing had
        floor.decide(prepared)
    timed = (proctor_decide, proctor_inputs)
    paired = paired_p50_ratio(timed, (floor.decide, inputs), rounds=rounds)
    return {
        "fast_path": FAST_PATH,
        "load_s": floor.load_seconds,
        "mismatches": mismatches,
        "rounds": paired["rounds"],
        "proctor_p50_us": paired["first_p50_us"],
        "indexed_p50_us": paired["second_p50_us"],
        "proctor_over_indexed_p50": paired["ratio"],
        "ratio_spread": paired["ratio_spread"],
        "proctor_spread_us": paired["first_spread_us"],
    }
