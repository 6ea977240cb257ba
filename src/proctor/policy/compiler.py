"""From policy sources to a ``CompiledPolicySet``, in named stages.

Stages run in order; each collects every error it finds, and compilation stops
after the first stage that found any, so a file's errors are reported together:

1. ``read``      YAML with positions (``source.read_documents``)
2. ``validate``  document shape, unknown keys with hints (``schema``)
3. ``compile``   action patterns, expressions, selectors, scopes, argument schemas
4. ``link``      unique policy names and rule ids across all documents
5. ``index``     the action index (in ``CompiledPolicySet``)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from proctor.errors import Location, ProctorError
from proctor.model.actions import ActionPattern, InvalidPattern, parse_pattern
from proctor.model.decision import Effect
from proctor.model.limits import ApprovalSettings, RunCeilings
from proctor.model.tiers import TierRule
from proctor.policy.arg_schemas import CompiledArgSchema, compile_schemas
from proctor.policy.controls import (
    CompiledLimit,
    ControlIndex,
    compile_approval,
    compile_ceilings,
    compile_limits,
    compile_tier_rules,
    link_limits,
    parse_patterns,
)
from proctor.policy.errors import PolicyError, PolicyLoadError
from proctor.policy.evaluate import CompiledPolicySet
from proctor.policy.expr import CompiledExpression, ExpressionError, compile_expression
from proctor.policy.gc_pause import collector_paused
from proctor.policy.rules import CompiledPolicy, CompiledRule, on_error_mode
from proctor.policy.scan_rules import ScanIndex, ScanSection, compile_scan
from proctor.policy.schema import PolicyDocumentSpec, RuleSpec, validate_document
from proctor.policy.selector import AgentSelector
from proctor.policy.source import LocatedDocument, PolicySource, read_documents

STAGES = ("read", "validate", "compile", "link", "index")
MAX_RULES = 200_000


def compile_sources(
    sources: Iterable[PolicySource], *, timezone: tzinfo | None = None
) -> CompiledPolicySet:
    """Compile every document of every source into one set; raises ``PolicyLoadError``."""
    with collector_paused():  # a large set is a million objects and no garbage
        return _compile_sources(tuple(sources), timezone)


def _compile_sources(given: tuple[PolicySource, ...], timezone: tzinfo | None) -> CompiledPolicySet:
    errors: list[ProctorError] = []
    documents: list[LocatedDocument] = []
    for source in given:  # stage: read
        try:
            documents.extend(read_documents(source.text, source.file))
        except PolicyError as exc:
            errors.append(exc)
    _stop_if(errors)

    specs: list[tuple[LocatedDocument, PolicyDocumentSpec]] = []
    for document in documents:  # stage: validate
        spec, problems = validate_document(document)
        errors.extend(problems)
        if spec is not None:
            specs.append((document, spec))
    _stop_if(errors)

    policies: list[CompiledPolicy] = []
    rules: list[CompiledRule] = []
    limits: list[CompiledLimit] = []
    ceilings: list[tuple[CompiledPolicy, RunCeilings]] = []
    approvals: list[ApprovalSettings] = []
    tier_rules: list[tuple[CompiledPolicy, TierRule]] = []
    scan_sections: list[ScanSection] = []
    schemas: list[CompiledArgSchema] = []
    for document, spec in specs:  # stage: compile
        policy, compiled, found = _compile_document(document, spec, first_order=len(rules))
        errors.extend(found)
        policies.append(policy)
        rules.extend(compiled)
        schemas.extend(compile_schemas(spec.schemas, policy, document, errors))
        limits.extend(compile_limits(spec.limits, policy, document, errors))
        tier_rules.extend(compile_tier_rules(spec.tiers, policy, document, errors))
        section = compile_scan(spec.scan, policy, document, errors)
        if section is not None:
            scan_sections.append(section)
        if spec.runs is not None:
            run_ceilings = compile_ceilings(spec.runs, spec.name, document, errors)
            if run_ceilings is not None:
                ceilings.append((policy, run_ceilings))
        for index, (rule_spec, rule) in enumerate(zip(spec.rules, compiled, strict=True)):
            settings = compile_approval(rule_spec, rule.rule_id, document, ("rules", index), errors)
            if settings is not None:
                approvals.append(settings)
    _stop_if(errors)

    errors.extend(_link(policies, rules))  # stage: link
    errors.extend(link_limits(limits))
    _stop_if(errors)
    if len(rules) > MAX_RULES:
        raise PolicyLoadError(
            [PolicyError(f"more than {MAX_RULES} rules in one set", code="policy_too_large")]
        )
    return CompiledPolicySet(
        tuple(policies),
        tuple(rules),
        timezone or ZoneInfo("UTC"),
        ControlIndex(limits, ceilings, approvals, tier_rules),
        ScanIndex(scan_sections, reads_findings=_reads_findings(rules)),
        warnings=tuple(_fail_open_warnings(specs)),
        schemas=tuple(schemas),
        sources=given,
    )  # stage: index


def _fail_open_warnings(
    specs: list[tuple[LocatedDocument, PolicyDocumentSpec]],
) -> Iterable[PolicyError]:
    """A deny or approval rule with `on_error: skip` stops applying on a bad argument."""
    for document, spec in specs:
        for index, rule in enumerate(spec.rules):
            if (
                rule.on_error == "skip"
                and rule.effect != "allow"
                and (rule.conditions or rule.when)
            ):
                yield PolicyError(
                    f"rule `{rule.id or f'{spec.name}#{index + 1}'}` ({rule.effect}) stops "
                    "applying when its condition cannot be evaluated (`on_error: skip`): "
                    "a call with a missing or mistyped argument escapes it",
                    code="policy_fails_open",
                    location=document.location(("rules", index, "on_error")),
                    hint="remove `on_error: skip` so the rule's effect applies",
                )


def _reads_findings(rules: list[CompiledRule]) -> bool:
    """Whether any condition reads `findings.*`, so calls are scanned for every type."""
    return any(
        path == "findings" or path.startswith(("findings.", "findings["))
        for rule in rules
        for condition in rule.conditions
        for path in condition.paths
    )


def _stop_if(errors: list[ProctorError]) -> None:
    if errors:
        raise PolicyLoadError(errors)


class _RuleAt(NamedTuple):
    """One rule, where it stands in its document, and the list its errors go to."""

    rule: RuleSpec
    document: LocatedDocument
    path: tuple[str | int, ...]
    errors: list[ProctorError]


def _compile_document(
    document: LocatedDocument, spec: PolicyDocumentSpec, *, first_order: int
) -> tuple[CompiledPolicy, list[CompiledRule], list[ProctorError]]:
    errors: list[ProctorError] = []
    policy = CompiledPolicy(
        name=spec.name,
        version=spec.version,
        default=Effect(spec.default),
        audit_mode=spec.mode == "audit",
        selector=AgentSelector.from_spec(spec.applies_to),
        location=document.location(()),
        rule_count=len(spec.rules),
    )
    rules: list[CompiledRule] = []
    for index, rule in enumerate(spec.rules):
        path = ("rules", index)
        at = _RuleAt(rule, document, path, errors)
        effect = _EFFECTS[rule.effect]
        rules.append(
            CompiledRule(
                rule_id=rule.id or f"{spec.name}#{index + 1}",
                policy=policy,
                order=first_order + index,
                effect=effect,
                patterns=_patterns(at),
                conditions=_conditions(at) if rule.conditions or rule.when is not None else (),
                reason=rule.reason,
                selector=AgentSelector.from_spec(rule.applies_to),
                required_scopes=_required_scopes(at) if rule.scopes else (),
                on_error=on_error_mode(effect, rule.on_error),
                location=document.location(path),
            )
        )
    return policy, rules, errors


_EFFECTS = {effect.value: effect for effect in Effect}


def _patterns(at: _RuleAt) -> tuple[ActionPattern, ...]:
    rule, document, path, errors = at
    if isinstance(rule.action, str):  # the common case, without building a located list
        try:
            return (parse_pattern(rule.action),)
        except InvalidPattern:
            pass  # parsed again below, where the error gets its location
    texts = [rule.action] if isinstance(rule.action, str) else rule.action
    if not texts:
        errors.append(
            PolicyError(
                "`action` must name at least one action",
                code="policy_invalid_action",
                location=document.location((*path, "action")),
            )
        )
    if isinstance(rule.action, str):
        located = [(rule.action, (*path, "action"))]
    else:
        located = [(text, (*path, "action", position)) for position, text in enumerate(texts)]
    return tuple(parse_patterns(located, document, errors))


def _conditions(at: _RuleAt) -> tuple[CompiledExpression, ...]:
    rule = at.rule
    texts = [*rule.conditions, rule.when] if rule.when is not None else rule.conditions
    try:
        return tuple([_compiled_condition(text) for text in texts])
    except ExpressionError:
        return _located_conditions(at)


def _located_conditions(at: _RuleAt) -> tuple[CompiledExpression, ...]:
    """The conditions of a rule with an error: each compiled where it stands, so every
    error points into its own text."""
    rule, document, path, errors = at
    sources: list[tuple[str, tuple[str | int, ...]]] = [
        (text, (*path, "conditions", position)) for position, text in enumerate(rule.conditions)
    ]
    if rule.when is not None:
        sources.append((rule.when, (*path, "when")))
    compiled: list[CompiledExpression] = []
    for text, where in sources:
        try:
            compiled.append(_compiled_condition(text))
        except ExpressionError:
            try:  # compiled again where it stands, so the error points there
                compiled.append(compile_expression(text, location=document.location(where)))
            except ExpressionError as exc:
                errors.append(exc)
    return tuple(compiled)


@lru_cache(maxsize=8192)
def _compiled_condition(text: str) -> CompiledExpression:
    """A condition's compiled form, by its text: large sets repeat a few conditions many
    times, and a compiled expression is immutable and reads nothing but the request."""
    return compile_expression(text)


def _required_scopes(at: _RuleAt) -> tuple[ActionPattern, ...]:
    rule, document, path, errors = at
    located = [(text, (*path, "scopes", position)) for position, text in enumerate(rule.scopes)]
    return tuple(parse_patterns(located, document, errors, code="policy_invalid_scope"))


def _link(policies: list[CompiledPolicy], rules: list[CompiledRule]) -> list[ProctorError]:
    errors: list[ProctorError] = []
    seen_policies: dict[str, Location] = {}
    for policy in policies:
        if policy.name in seen_policies:
            errors.append(
                PolicyError(
                    f"policy name `{policy.name}` is used twice "
                    f"(first at {seen_policies[policy.name]})",
                    code="policy_duplicate_name",
                    location=policy.location,
                )
            )
        seen_policies.setdefault(policy.name, policy.location)
    seen_rules: dict[str, Location] = {}
    for rule in rules:
        if rule.rule_id in seen_rules:
            errors.append(
                PolicyError(
                    f"rule id `{rule.rule_id}` is used twice (first at {seen_rules[rule.rule_id]})",
                    code="policy_duplicate_rule_id",
                    location=rule.location,
                )
            )
        seen_rules.setdefault(rule.rule_id, rule.location)
    return errors
