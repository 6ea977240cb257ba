"""The neutral benchmark rules as one Rego module, and the regopy fast path.

Every rule becomes one body of ``deny`` or ``allow``::

    package proctor
    import rego.v1

    deny if {
        startswith(input.action, "read:area_3:")
        input.amount > 500
    }

    decision := "deny" if deny
    else := "allow" if allow
    else := "deny"

so deny overrides allow and the default is deny, as in proctor. A prefix glob
``p:*`` becomes ``startswith(input.action, "p:")``: exact for valid actions
(no empty segments) and cheaper than ``glob.match``.

Fast path: the module is compiled once with ``Interpreter.build`` into a
``Bundle`` with the entrypoint ``proctor/decision``; each decision is
``set_input(Input(dict))`` then ``query_bundle_entrypoint(bundle,
"proctor/decision")``, which skips re-parsing and re-compiling the module
(``Interpreter.query`` recompiles the query on every call).
"""

from __future__ import annotations

import json
import time
from typing import Any

from benchmarks.generate import BenchRequest, BenchRule, Condition

ENTRYPOINT = "proctor/decision"
FAST_PATH = (
    "Interpreter.build(None, ['proctor/decision']) once into a Bundle; per decision "
    "set_input(Input(dict)) + query_bundle_entrypoint(bundle, 'proctor/decision')"
)


def rego_condition(condition: Condition) -> list[str]:
    value = condition.value
    if condition.kind == "amount":
        return [f"input.amount {condition.op} {value}"]
    if condition.kind == "hour":
        assert isinstance(value, tuple)
        return [f"input.hour >= {value[0]}", f"input.hour <= {value[1]}"]
    if condition.kind == "region":
        assert isinstance(value, tuple)
        return [f"input.region in {{{', '.join(json.dumps(v) for v in value)}}}"]
    return [f"{json.dumps(value)} in input.tags"]


def rego_action_test(pattern: str) -> str:
    if pattern.endswith(":*"):
        return f"startswith(input.action, {json.dumps(pattern[:-1])})"
    return f"input.action == {json.dumps(pattern)}"


def to_rego(rules: list[BenchRule]) -> str:
    parts = ["package proctor", "", "import rego.v1", ""]
    for rule in rules:
        body = [rego_action_test(rule.action)]
        for condition in rule.conditions:
            body.extend(rego_condition(condition))
        parts.append(f"# {rule.rule_id}")
        parts.append(f"{rule.effect} if {{")
        parts.extend(f"\t{line}" for line in body)
        parts.append("}")
        parts.append("")
    parts += [
        'decision := "deny" if deny',
        'else := "allow" if allow',
        'else := "deny"',
        "",
    ]
    return "\n".join(parts)


def rego_input(request: BenchRequest) -> dict[str, Any]:
    return {
        "action": request.action,
        "amount": request.amount,
        "hour": request.hour,
        "region": request.region,
        "tags": list(request.tags),
    }


class RegoEngine:
    """A module compiled once into a bundle; ``decide(input dict)`` returns the output text."""

    name = "regopy"
    fast_path = FAST_PATH

    def __init__(self, rules: list[BenchRule]) -> None:
        import regopy

        self.text = to_rego(rules)
        started = time.perf_counter()  # the load from text, as each engine's is timed
        interpreter = regopy.Interpreter()
        interpreter.add_module("proctor.rego", self.text)
        bundle = interpreter.build(None, [ENTRYPOINT])
        if not bundle.ok():
            raise RuntimeError(f"regopy could not build the bundle: {bundle.node()}")
        self.load_seconds = time.perf_counter() - started
        self.interpreter = interpreter
        self.bundle = bundle
        set_input = interpreter.set_input
        query = interpreter.query_bundle_entrypoint
        make_input = regopy.Input

        def decide(value: dict[str, Any]) -> str:
            set_input(make_input(value))
            return str(query(bundle, ENTRYPOINT))

        self.decide = decide

    @staticmethod
    def prepare(request: BenchRequest) -> dict[str, Any]:
        return rego_input(request)

    @staticmethod
    def allowed(result: str) -> bool:
        if '"allow"' in result:
            return True
        if '"deny"' in result:
            return False
        raise RuntimeError(f"regopy returned no decision: {result}")
