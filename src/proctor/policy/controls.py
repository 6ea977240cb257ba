"""Compiling ``limits:``, ``runs:``, ``tiers:`` and rule approval settings; looking them up.

Part of the ``compile`` stage (see ``compiler``): every error is collected
with its location. The result is a ``ControlIndex`` kept on the compiled set;
``proctor.limits`` enforces what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from proctor.errors import ProctorError
from proctor.model.actions import ActionPattern, InvalidPattern, parse_pattern
from proctor.model.limits import ApprovalSettings, Controls, LimitDefinition, RunCeilings
from proctor.model.request import Agent, CheckRequest
from proctor.model.tiers import Tier, TierRule
from proctor.policy.errors import PolicyError
from proctor.policy.index import ActionIndex
from proctor.policy.limits_schema import (
    LimitSpec,
    RunsSpec,
    TierRuleSpec,
    parse_duration,
    parse_rate,
    parse_value_path,
)
from proctor.policy.rules import CompiledPolicy
from proctor.policy.schema import RuleSpec
from proctor.policy.source import LocatedDocument

DEFAULT_APPROVAL_TTL = 3600.0
_APPROVER_KINDS = ("role", "user")
_NO_CONTROLS = Controls()


@dataclass(frozen=True, slots=True)
class CompiledLimit:
    definition: LimitDefinition
    policy: CompiledPolicy
    patterns: tuple[ActionPattern, ...]


class ControlIndex:
    """The limits, run ceilings and approval settings of a compiled set, ready to look up."""

    __slots__ = (
        "_approvals",
        "_ceilings",
        "_limits",
        "_tier_rules",
        "has_ceilings",
        "has_limits",
        "has_tier_rules",
    )

    def __init__(
        self,
        limits: Iterable[CompiledLimit] = (),
        ceilings: Iterable[tuple[CompiledPolicy, RunCeilings]] = (),
        approvals: Iterable[ApprovalSettings] = (),
        tier_rules: Iterable[tuple[CompiledPolicy, TierRule]] = (),
    ) -> None:
        listed = [item for item in limits if not item.policy.audit_mode]
        self._limits: ActionIndex[CompiledLimit] = ActionIndex(
            (
                (pattern, order, item)
                for order, item in enumerate(listed)
                for pattern in item.patterns
            ),
            fold=True,  # a limit counts an action in whatever case it is spelled
        )
        self._ceilings = tuple(entry for entry in ceilings if not entry[0].audit_mode)
        self._approvals = {item.rule_id: item for item in approvals}
        self.has_limits = bool(listed)
        self.has_ceilings = bool(self._ceilings)
        self._tier_rules = tuple(entry for entry in tier_rules if not entry[0].audit_mode)
        self.has_tier_rules = bool(self._tier_rules)

    def tier_rules(self, agent: Agent) -> tuple[TierRule, ...]:
        """The tier rules of the policies that apply to ``agent`` (enforced policies only)."""
        return tuple(
            rule
            for policy, rule in self._tier_rules
            if policy.selector is None or policy.selector.matches(agent)
        )

    def for_request(self, request: CheckRequest) -> Controls:
        """The limits whose actions match and, in a run, the tightest ceilings that apply."""
        agent = request.agent
        limits: tuple[LimitDefinition, ...] = ()
        if self.has_limits:
            seen: dict[str, LimitDefinition] = {}
            for item in self._limits.candidates(request.action):
                selector = item.policy.selector
                if selector is None or selector.matches(agent):
                    seen.setdefault(item.definition.limit_id, item.definition)
            limits = tuple(seen.values())
        ceilings: RunCeilings | None = None
        if self.has_ceilings and request.run is not None:
            for policy, found in self._ceilings:
                if policy.selector is None or policy.selector.matches(agent):
                    ceilings = found if ceilings is None else ceilings.tighten(found)
        if not limits and ceilings is None:
            return _NO_CONTROLS
        return Controls(limits, ceilings)

    def approval(self, rule_ids: Iterable[str]) -> ApprovalSettings:
        """The settings of the first of ``rule_ids`` that has any (anyone, one hour otherwise)."""
        ids = list(rule_ids)
        for rule_id in ids:
            found = self._approvals.get(rule_id)
            if found is not None:
                return found
        return ApprovalSettings(ids[0] if ids else "", (), DEFAULT_APPROVAL_TTL)


def compile_tier_rules(
    specs: list[TierRuleSpec],
    policy: CompiledPolicy,
    document: LocatedDocument,
    errors: list[ProctorError],
) -> list[tuple[CompiledPolicy, TierRule]]:
    """``tiers:`` rules; a window of whole seconds, a known tier to demote to."""
    compiled: list[tuple[CompiledPolicy, TierRule]] = []
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        path: tuple[str | int, ...] = ("tiers", index, "demote")
        window = parse_duration(spec.demote.window)
        failed = spec.id in seen
        if failed:
            errors.append(
                document.error(
                    ("tiers", index, "id"),
                    f"tier rule id `{spec.id}` is used twice in policy `{policy.name}`",
                    "policy_duplicate_tier_rule_id",
                )
            )
        seen.add(spec.id)
        if window is None or window != int(window):
            errors.append(
                document.error(
                    (*path, "window"),
                    f"tier rule `{spec.id}`: `{spec.demote.window}` is not a window like "
                    "`10m`, `1h` or `1d` (whole seconds, at most 366 days)",
                    "policy_invalid_window",
                )
            )
            failed = True
        try:
            to = Tier.parse(spec.demote.to)
        except ValueError as exc:
            errors.append(
                document.error(
                    (*path, "to"), f"tier rule `{spec.id}`: {exc}", "policy_invalid_tier"
                )
            )
            failed = True
        if not failed:
            assert window is not None
            rule = TierRule(
                f"{policy.name}/{spec.id}",
                to,
                spec.demote.when_denials,
                int(window),
                spec.demote.window,
            )
            compiled.append((policy, rule))
    return compiled


def compile_limits(
    specs: list[LimitSpec],
    policy: CompiledPolicy,
    document: LocatedDocument,
    errors: list[ProctorError],
) -> list[CompiledLimit]:
    compiled: list[CompiledLimit] = []
    for index, spec in enumerate(specs):
        path: tuple[str | int, ...] = ("limits", index)
        found = _definition(spec, policy.name, document, path, errors)
        patterns = located_patterns(spec.action, document, path, errors)
        if found is not None:
            compiled.append(CompiledLimit(found, policy, patterns))
    return compiled


def _definition(
    spec: LimitSpec,
    policy: str,
    document: LocatedDocument,
    path: tuple[str | int, ...],
    errors: list[ProctorError],
) -> LimitDefinition | None:
    def fail(message: str, code: str, key: str | None = None) -> None:
        where = (*path, key) if key is not None else path
        errors.append(document.error(where, message, code))

    name = f"limit `{spec.id}`"
    sum_path: tuple[str, ...] | None = None
    if spec.rate is not None:
        if spec.sum is not None or spec.max is not None or spec.window is not None:
            fail(
                f"{name} gives `rate` and also `sum`, `max` or `window`; use one form",
                "policy_invalid_limit",
            )
            return None
        rate = parse_rate(spec.rate)
        if rate is None:
            fail(
                f"{name}: `{spec.rate}` is not a rate like `60/min` or `5/10s`",
                "policy_invalid_rate",
                "rate",
            )
            return None
        ceiling, window = rate
        text = f"{spec.rate} calls"
    else:
        if spec.max is None or spec.window is None:
            missing = "max" if spec.max is None else "window"
            fail(
                f"{name} needs `rate`, or `max` and `window` (no `{missing}`)",
                "policy_invalid_limit",
            )
            return None
        parsed = parse_duration(spec.window)
        if parsed is None:
            fail(
                f"{name}: `{spec.window}` is not a window like `1m`, `1h` or `1d`",
                "policy_invalid_window",
                "window",
            )
            return None
        window, ceiling = parsed, spec.max
        if spec.sum is not None:
            sum_path = parse_value_path(spec.sum)
            if sum_path is None:
                fail(
                    f"{name}: `sum` must be a path under `args` or `context`, "
                    f"like `args.amount`, not `{spec.sum}`",
                    "policy_invalid_limit",
                    "sum",
                )
                return None
            text = f"{spec.sum} up to {_number(ceiling)} per {spec.window}"
        else:
            text = f"{_number(ceiling)} calls per {spec.window}"
    if window < 1 or window != int(window):
        fail(f"{name}: a window is a whole number of seconds", "policy_invalid_window")
        return None
    return LimitDefinition(
        limit_id=spec.id,
        policy=policy,
        ceiling=float(ceiling),
        window_seconds=int(window),
        sliding=spec.window_type == "sliding",
        sum_path=sum_path,
        key_by=tuple(dict.fromkeys(spec.per)),
        text=text + (" (sliding)" if spec.window_type == "sliding" else ""),
        reason=spec.reason,
    )


def located_patterns(
    action: str | Sequence[str],
    document: LocatedDocument,
    path: tuple[str | int, ...],
    errors: list[ProctorError],
) -> tuple[ActionPattern, ...]:
    """The action patterns of a section at ``path`` (its ``action:``); each bad one is a
    located ``policy_invalid_action`` in ``errors``."""
    texts = [action] if isinstance(action, str) else action
    where = (*path, "action")
    return tuple(dict.fromkeys(parse_patterns(((text, where) for text in texts), document, errors)))


def parse_patterns(
    texts: Iterable[tuple[str, tuple[str | int, ...]]],
    document: LocatedDocument,
    errors: list[ProctorError],
    *,
    code: str = "policy_invalid_action",
) -> list[ActionPattern]:
    """Each ``(text, path)`` parsed as an action pattern; a bad one is an error ``code``
    located at its path in ``errors``."""
    patterns: list[ActionPattern] = []
    for text, path in texts:
        try:
            patterns.append(parse_pattern(text))
        except InvalidPattern as exc:
            errors.append(document.error(path, str(exc), code))
    return patterns


def compile_ceilings(
    spec: RunsSpec, policy: str, document: LocatedDocument, errors: list[ProctorError]
) -> RunCeilings | None:
    duration: float | None = None
    if spec.max_duration is not None:
        duration = parse_duration(spec.max_duration)
        if duration is None:
            errors.append(
                document.error(
                    ("runs", "max_duration"),
                    f"`{spec.max_duration}` is not a duration like `30m` or `2h`",
                    "policy_invalid_window",
                )
            )
            return None
    cost_path = parse_value_path(spec.cost)
    if cost_path is None:
        errors.append(
            document.error(
                ("runs", "cost"),
                f"`cost` must be a path under `args` or `context`, not `{spec.cost}`",
                "policy_invalid_limit",
            )
        )
        return None
    return RunCeilings(
        policy,
        spec.max_tool_calls,
        duration,
        spec.max_cost,
        cost_path,
        spec.max_identical_calls,
    )


def compile_approval(
    rule: RuleSpec,
    rule_id: str,
    document: LocatedDocument,
    path: tuple[str | int, ...],
    errors: list[ProctorError],
) -> ApprovalSettings | None:
    """The approval settings of a rule that has any; an error if a non-approval rule has them."""
    if not rule.approvers and rule.approval_ttl is None:
        return None
    if rule.effect != "require_approval":
        errors.append(
            document.error(
                path,
                f"rule `{rule_id}` has `approvers` or `approval_ttl` "
                "but its effect is not `require_approval`",
                "policy_invalid_approval",
            )
        )
        return None
    for position, approver in enumerate(rule.approvers):
        kind, _, pattern = approver.partition(":")
        if kind not in _APPROVER_KINDS or not pattern:
            errors.append(
                document.error(
                    (*path, "approvers", position),
                    f"approver `{approver}` must be `role:NAME` or `user:PATTERN`",
                    "policy_invalid_approval",
                )
            )
    ttl = DEFAULT_APPROVAL_TTL
    if rule.approval_ttl is not None:
        parsed = parse_duration(rule.approval_ttl)
        if parsed is None:
            errors.append(
                document.error(
                    (*path, "approval_ttl"),
                    f"`{rule.approval_ttl}` is not a duration like `15m` or `1d`",
                    "policy_invalid_window",
                )
            )
        else:
            ttl = parsed
    return ApprovalSettings(rule_id, tuple(rule.approvers), ttl)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def link_limits(limits: list[CompiledLimit]) -> list[ProctorError]:
    """Limit ids name counters, so they are unique across the whole set."""
    errors: list[ProctorError] = []
    seen: set[str] = set()
    for item in limits:
        if item.definition.limit_id in seen:
            errors.append(
                PolicyError(
                    f"limit id `{item.definition.limit_id}` is used twice",
                    code="policy_duplicate_limit_id",
                    location=item.policy.location,
                )
            )
        seen.add(item.definition.limit_id)
    return errors
