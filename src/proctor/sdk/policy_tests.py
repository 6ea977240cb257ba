"""Policy test files: requests with the decisions their authors expect.

A test file is YAML::

    policies: [policies/]          # files or directories, relative to this file
    roles: {support: ["read:*", "write:*"]}
    agents: [{id: support-bot, role: support, tier: verified}]
    cases:
      - name: refunds up to 100 are fine
        action: write:refund
        agent: support-bot
        user: {sub: alice, scopes: ["write:*"]}
        args: {amount: 40}
        at: "2026-11-24T10:00:00Z"
        expect: allow              # or {effect: deny, rule_ids: [...], code: ..., reason: "part"}

Stateful cases (limits, runs) may make earlier calls in the same runtime first:
``before: [{args: {amount: 400}, repeat: 2, at: "..."}]`` (each entry defaults
to the case's own action, agent, user, args and ``run``, a run id).

A case may carry its own ``policy`` (a document or a list of documents) and
expect a load error instead: ``expect: {error: policy_unknown_key}``. The same
files run through the library (``run_test_file``) and ``proctor policy test``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from proctor.clock import ManualClock
from proctor.errors import ErrorGroup, ProctorError
from proctor.identity.registry import AgentRegistry
from proctor.identity.scopes import ScopeSet
from proctor.model.decision import Decision
from proctor.model.request import Agent, RunState, User
from proctor.model.tiers import Tier
from proctor.policy import CompiledPolicySet, PolicySource, compile_sources
from proctor.policy.loader import collect_sources
from proctor.policy.source import refuse_aliases
from proctor.runtime import Runtime
from proctor.storage import open_audit_store

DEFAULT_TIME = "2026-11-23T10:00:00Z"  # a Monday morning


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    name: str
    passed: bool
    message: str
    decision: Decision | None = None
    error_codes: tuple[str, ...] = ()


def run_test_file(path: str | Path) -> list[CaseResult]:
    """Run every case of one test file; a broken file is one failed result."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        refuse_aliases(text, str(file))
        spec = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError, ProctorError) as exc:
        return [CaseResult(str(file), "(file)", False, f"cannot read the test file: {exc}")]
    if not isinstance(spec, dict) or not isinstance(spec.get("cases"), list):
        return [CaseResult(str(file), "(file)", False, "a test file needs a `cases` list")]
    shared = _SharedPolicies(spec, file.parent)
    results = []
    for index, case in enumerate(spec["cases"]):
        name = (
            str(case.get("name", f"case {index + 1}"))
            if isinstance(case, dict)
            else f"case {index + 1}"
        )
        if not isinstance(case, dict):
            results.append(CaseResult(str(file), name, False, "a case must be a mapping"))
            continue
        results.append(_run_case(file, name, spec, case, shared))
    return results


class _SharedPolicies:
    """The file-level policies, compiled once per time zone the cases ask for."""

    def __init__(self, spec: Mapping[str, Any], base: Path) -> None:
        self._spec = spec
        self._base = base
        self._compiled: dict[str, CompiledPolicySet] = {}

    def get(self, timezone: str) -> CompiledPolicySet | None:
        if not (self._spec.get("policies") or self._spec.get("policy")):
            return None
        if timezone not in self._compiled:
            self._compiled[timezone] = _compile(self._spec, self._base, timezone)
        return self._compiled[timezone]


def _compile(spec: Mapping[str, Any], base: Path, timezone: str) -> CompiledPolicySet:
    paths = [base / p for p in spec.get("policies", [])]
    sources, errors = collect_sources(paths)
    if errors:
        raise ErrorGroup(list(errors))
    inline = spec.get("policy")
    documents = inline if isinstance(inline, list) else [inline] if inline is not None else []
    for number, document in enumerate(documents):
        text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
        sources.append(PolicySource(text, f"<case policy {number + 1}>"))
    return compile_sources(sources, timezone=ZoneInfo(timezone))


def _run_case(
    file: Path,
    name: str,
    spec: Mapping[str, Any],
    case: Mapping[str, Any],
    shared: _SharedPolicies,
) -> CaseResult:
    expect = case.get("expect")
    expected = {"effect": expect} if isinstance(expect, str) else dict(expect or {})
    timezone = str(case.get("timezone", spec.get("timezone", "UTC")))
    try:
        own = "policy" in case or "policies" in case
        policies = _compile(case, file.parent, timezone) if own else shared.get(timezone)
        if policies is None:
            policies = CompiledPolicySet.empty(ZoneInfo(timezone))
    except ProctorError as exc:
        codes = _codes(exc)
        if "error" in expected:
            ok = expected["error"] in codes
            message = (
                "ok" if ok else f"expected error `{expected['error']}`, got {', '.join(codes)}"
            )
            return CaseResult(str(file), name, ok, message, error_codes=codes)
        return CaseResult(
            str(file), name, False, f"policies failed to load: {exc}", error_codes=codes
        )
    if "error" in expected:
        return CaseResult(
            str(file), name, False, f"expected error `{expected['error']}`, policies loaded"
        )
    decision = _decide(spec, case, policies)
    problems = _compare(expected, decision)
    return CaseResult(str(file), name, not problems, "; ".join(problems) or "ok", decision)


def _decide(
    spec: Mapping[str, Any], case: Mapping[str, Any], policies: CompiledPolicySet
) -> Decision:
    roles = {**spec.get("roles", {}), **case.get("roles", {})}
    agents = [_agent(a) for a in [*spec.get("agents", []), *case.get("agents", [])]]
    registry = AgentRegistry(
        {a.id: a for a in agents}, {n: ScopeSet.parse(s) for n, s in roles.items()}
    )
    when = _parse_time(str(case.get("at", spec.get("at", DEFAULT_TIME))))
    clock = ManualClock(when)
    runtime = Runtime(
        policies=policies,
        registry=registry,
        audit=open_audit_store(":memory:"),
        clock=clock,
    )
    agent_spec = case.get("agent", spec.get("agent"))
    agent = _agent(agent_spec) if isinstance(agent_spec, dict) else agent_spec
    try:
        for earlier in case.get("before", ()):
            merged = {**case, **earlier}
            clock.set(_parse_time(str(merged.get("at", when.isoformat()))))
            who = merged.get("agent", spec.get("agent"))
            for _ in range(int(earlier.get("repeat", 1))):
                runtime.check(
                    str(merged.get("action", "")),
                    agent=_agent(who) if isinstance(who, dict) else who,
                    user=_user(merged.get("user")),
                    args=merged.get("args"),
                    context=merged.get("context"),
                    run=RunState(str(merged["run"])) if merged.get("run") else None,
                )
        clock.set(when)
        return runtime.check(
            str(case.get("action", "")),
            agent=agent,
            user=_user(case.get("user")),
            args=case.get("args"),
            resource=case.get("resource"),
            context=case.get("context"),
            run=RunState(str(case["run"])) if case.get("run") else None,
        )
    finally:
        runtime.close()


def _compare(expected: Mapping[str, Any], decision: Decision) -> list[str]:
    problems = []
    if "effect" in expected and decision.effect.value != expected["effect"]:
        problems.append(
            f"expected `{expected['effect']}`, got `{decision.effect.value}` ({decision.reason})"
        )
    if "rule_ids" in expected and list(decision.rule_ids) != list(expected["rule_ids"]):
        problems.append(
            f"expected rules {list(expected['rule_ids'])}, got {list(decision.rule_ids)}"
        )
    if "code" in expected and decision.code != expected["code"]:
        problems.append(f"expected code `{expected['code']}`, got `{decision.code}`")
    if "reason" in expected and str(expected["reason"]) not in decision.reason:
        problems.append(
            f"expected the reason to mention `{expected['reason']}`, got `{decision.reason}`"
        )
    if "shadow" in expected:
        shadow = decision.shadow.effect.value if decision.shadow else None
        if shadow != expected["shadow"]:
            problems.append(f"expected shadow `{expected['shadow']}`, got `{shadow}`")
    if "diagnostics" in expected:
        codes = [item.code for item in decision.diagnostics]
        if codes != list(expected["diagnostics"]):
            problems.append(f"expected diagnostics {list(expected['diagnostics'])}, got {codes}")
    return problems


def _codes(error: ProctorError) -> tuple[str, ...]:
    if isinstance(error, ErrorGroup):
        return tuple(code for inner in error.errors for code in _codes(inner))
    return (error.code,)


def _agent(spec: Any) -> Agent:
    if isinstance(spec, str):
        return Agent(spec)
    return Agent(
        str(spec["id"]),
        spec.get("role"),
        Tier.parse(spec.get("tier", "unverified")),
        frozenset(spec.get("tags", [])),
        spec.get("owner"),
    )


def _user(spec: Any) -> User | str | None:
    if spec is None or isinstance(spec, str):
        return spec
    claims = {k: v for k, v in spec.items() if k not in ("sub", "scopes", "claims")}
    claims.update(spec.get("claims", {}))
    return User(str(spec["sub"]), tuple(spec.get("scopes", ())), claims)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
