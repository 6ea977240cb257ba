"""Compiled ``scan:`` sections and the verdict they give on a call's findings.

Findings arrive as mappings (``type``, ``score``, ``path``, ``start``, ``end``,
``scanner``), the scanners' own ``to_dict`` form, so this package needs nothing
of ``proctor.scanners``. The verdict is the strictest action any finding earns
(deny > require_approval > redact > allow); every finding whose action is
``redact`` is listed so the caller can mask it.

A ``scan.truncated`` finding means part of the content was never scanned (past
the scanners' bound on size, depth or count). Unless a rule names that type,
the verdict is then the strictest the sections would give to any finding they
deny or hold (code ``scan_truncated``): what was not read may hold it. A stage
that raised (a broken scanner, or content made to break one) gives the same
verdict with code ``scan_failed``, unless every section says ``fail: open``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proctor.errors import ProctorError
from proctor.model.actions import ActionPattern
from proctor.model.decision import Effect
from proctor.model.request import Agent
from proctor.policy.controls import parse_patterns
from proctor.policy.index import folded
from proctor.policy.rules import CompiledPolicy
from proctor.policy.scan_schema import ScanActionSpec, ScanSpec
from proctor.policy.source import LocatedDocument

DIRECTIONS = ("input", "output")
_SEVERITY = {"allow": 0, "redact": 1, "require_approval": 2, "deny": 3}
# Stages whose failure a `fail: closed` section turns into a deny.
_FAILED_STAGES = frozenset({"failed", "over_budget"})
TRUNCATED = "scan.truncated"  # the scanners' note that content went unscanned
SCAN_TRUNCATED = "scan_truncated"
SCAN_FAILED = "scan_failed"  # a stage raised: what it did not read may hold what it looks for


@dataclass(frozen=True, slots=True)
class ScanRule:
    """What one policy does with one finding type (or family) in one direction."""

    policy: CompiledPolicy
    direction: str
    finding_type: str
    action: str
    mode: str
    min_score: float
    reason: str | None

    @property
    def rule_id(self) -> str:
        return f"{self.policy.name}:scan.{self.direction}.{self.finding_type}"

    def covers(self, finding_type: str) -> bool:
        return finding_type == self.finding_type or finding_type.startswith(self.finding_type + ".")


@dataclass(frozen=True, slots=True)
class ScanSection:
    policy: CompiledPolicy
    patterns: tuple[ActionPattern, ...] | None
    fail_closed: bool
    rules: tuple[ScanRule, ...]
    fail_open: bool = False  # `fail: open` said: a stage that raised is only reported

    def applies(self, action: str, agent: Agent) -> bool:
        selector = self.policy.selector
        if selector is not None and not selector.matches(agent):
            return False
        if self.patterns is None:
            return True
        folded_action = action.casefold()  # the patterns are folded: a scan holds in any case
        return any(p.matches(folded_action) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Redaction:
    """A finding to mask: where it is and how."""

    path: str | None
    start: int
    end: int
    finding_type: str
    mode: str


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    effect: Effect | None  # None: the findings change nothing
    rule_ids: tuple[str, ...]
    reason: str
    redactions: tuple[Redaction, ...]
    code: str = ""  # set when the verdict has its own code (``scan_truncated``)


NO_VERDICT = ScanVerdict(None, (), "", ())


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """The sections that apply to one call in one direction, and the types they need."""

    direction: str
    sections: tuple[ScanSection, ...]
    types: frozenset[str] | None  # None: every scanner (conditions read `findings`)

    def verdict(
        self, findings: Sequence[Mapping[str, Any]], stages: Sequence[Mapping[str, Any]] = ()
    ) -> ScanVerdict:
        strictest: tuple[int, ScanRule | None, Mapping[str, Any] | None] = (0, None, None)
        redactions: list[Redaction] = []
        redacting: dict[str, None] = {}  # rule ids, in order, without repeats
        for finding in findings:
            rule = self._rule_for(str(finding.get("type", "")), float(finding.get("score", 0.0)))
            if rule is None:
                continue
            severity = _SEVERITY[rule.action]
            if rule.action == "redact":
                redactions.append(_redaction(finding, rule.mode))
                redacting[rule.rule_id] = None
            if severity > strictest[0]:
                strictest = (severity, rule, finding)
        failed = self._failed_closed(stages)
        if failed is not None:
            section, stage = failed
            return ScanVerdict(
                Effect.DENY,
                (f"{section.policy.name}:scan.fail",),
                f"denied: scanner `{stage.get('scanner')}` {stage.get('status')} "
                f"({stage.get('detail') or 'no detail'}) and policy `{section.policy.name}` "
                "scans with `fail: closed`",
                tuple(redactions),
            )
        top, deciding, evidence = strictest
        raised = self._raised(stages)
        if raised is not None and raised[0] > top:
            _, rule, stage = raised
            why = (
                f"scanner `{stage.get('scanner')}` failed ({stage.get('detail') or 'no detail'}), "
                "so the content was not scanned whole"
            )
            rule_id = f"{rule.policy.name}:scan.fail"
            return _unscanned(rule, rule_id, why, tuple(redactions), SCAN_FAILED)
        unread = self._unread(findings)
        if unread is not None and unread[0] > top:
            _, rule, note = unread
            why = f"{note.get('detail') or 'content was not scanned'}{_where(note)}"
            rule_id = f"{rule.policy.name}:scan.{self.direction}.{TRUNCATED}"
            return _unscanned(rule, rule_id, why, tuple(redactions), SCAN_TRUNCATED)
        if deciding is None or evidence is None:
            return NO_VERDICT
        if top == _SEVERITY["redact"]:
            return ScanVerdict(None, tuple(redacting), "", tuple(redactions))
        effect = Effect.DENY if deciding.action == "deny" else Effect.REQUIRE_APPROVAL
        return ScanVerdict(
            effect, (deciding.rule_id,), _reason(deciding, evidence), tuple(redactions)
        )

    def _rule_for(self, finding_type: str, score: float) -> ScanRule | None:
        """The most specific rule for the type; among equals the strictest (policy order)."""
        best: ScanRule | None = None
        for section in self.sections:
            for rule in section.rules:
                if rule.direction != self.direction or not rule.covers(finding_type):
                    continue
                if score < rule.min_score:
                    continue
                if (
                    best is None
                    or len(rule.finding_type) > len(best.finding_type)
                    or (
                        len(rule.finding_type) == len(best.finding_type)
                        and _SEVERITY[rule.action] > _SEVERITY[best.action]
                    )
                ):
                    best = rule
        return best

    def _unread(
        self, findings: Sequence[Mapping[str, Any]]
    ) -> tuple[int, ScanRule, Mapping[str, Any]] | None:
        """For content left unscanned: the strictest deny or hold rule of this direction."""
        note = next((f for f in findings if f.get("type") == TRUNCATED), None)
        if note is None or self._rule_for(TRUNCATED, 1.0) is not None:
            return None  # nothing skipped, or a rule says what a skip earns (whatever its score)
        holding = self._strictest_holding()
        return (holding[0], holding[1], note) if holding is not None else None

    def _raised(
        self, stages: Sequence[Mapping[str, Any]]
    ) -> tuple[int, ScanRule, Mapping[str, Any]] | None:
        """For a stage that raised (a broken scanner, or content that breaks one): the
        strictest deny or hold rule of this direction, unless every section says `fail: open`."""
        stage = next((s for s in stages if s.get("status") == "failed"), None)
        if stage is None or all(section.fail_open for section in self.sections):
            return None
        holding = self._strictest_holding()
        return (holding[0], holding[1], stage) if holding is not None else None

    def _strictest_holding(self) -> tuple[int, ScanRule] | None:
        """The strictest rule of this direction that denies or holds, with its severity."""
        strictest: tuple[int, ScanRule] | None = None
        for section in self.sections:
            for rule in section.rules:
                severity = _SEVERITY[rule.action]
                if rule.direction != self.direction or severity < _SEVERITY["require_approval"]:
                    continue
                if strictest is None or severity > strictest[0]:
                    strictest = (severity, rule)
        return strictest

    def _failed_closed(
        self, stages: Sequence[Mapping[str, Any]]
    ) -> tuple[ScanSection, Mapping[str, Any]] | None:
        failing = [stage for stage in stages if stage.get("status") in _FAILED_STAGES]
        if not failing:
            return None
        for section in self.sections:
            if section.fail_closed:
                return section, failing[0]
        return None


class ScanIndex:
    """Every enforced ``scan:`` section of a compiled set."""

    __slots__ = ("_reads_findings", "_sections", "has_input", "has_output")

    def __init__(self, sections: Iterable[ScanSection] = (), *, reads_findings: bool = False):
        self._sections = tuple(s for s in sections if not s.policy.audit_mode)
        self._reads_findings = reads_findings
        self.has_input = (
            reads_findings
            or any(r.direction == "input" for s in self._sections for r in s.rules)
            or any(s.fail_closed for s in self._sections)
        )
        self.has_output = any(r.direction == "output" for s in self._sections for r in s.rules)

    def plan(self, direction: str, action: str, agent: Agent) -> ScanPlan | None:
        """What to scan for in this call, or None when nothing asks for a scan."""
        if not (self.has_input if direction == "input" else self.has_output):
            return None
        sections = tuple(s for s in self._sections if s.applies(action, agent))
        wanted = {r.finding_type for s in sections for r in s.rules if r.direction == direction}
        if direction == "input" and self._reads_findings:
            return ScanPlan(direction, sections, None)
        if not wanted:
            return None
        return ScanPlan(direction, sections, frozenset(wanted))


def compile_scan(
    spec: ScanSpec | None,
    policy: CompiledPolicy,
    document: LocatedDocument,
    errors: list[ProctorError],
) -> ScanSection | None:
    if spec is None:
        return None
    patterns: list[ActionPattern] | None = None
    if spec.actions is not None:
        located = [
            (text, ("scan", "actions", position)) for position, text in enumerate(spec.actions)
        ]
        patterns = parse_patterns(located, document, errors)
    rules = [
        _rule(policy, direction, finding_type, entry)
        for direction in DIRECTIONS
        for finding_type, entry in (spec.input if direction == "input" else spec.output).items()
    ]
    return ScanSection(
        policy,
        tuple(folded(p) for p in patterns) if patterns is not None else None,
        spec.fail == "closed",
        tuple(rules),
        spec.fail == "open",
    )


def _rule(
    policy: CompiledPolicy, direction: str, finding_type: str, spec: ScanActionSpec
) -> ScanRule:
    return ScanRule(
        policy, direction, finding_type, spec.action, spec.mode, spec.min_score, spec.reason
    )


def _unscanned(
    rule: ScanRule, rule_id: str, why: str, redactions: tuple[Redaction, ...], code: str
) -> ScanVerdict:
    """The verdict of ``rule`` (a deny or a hold) on content that was not scanned whole."""
    denies = rule.action == "deny"
    return ScanVerdict(
        Effect.DENY if denies else Effect.REQUIRE_APPROVAL,
        (rule_id,),
        f"{'denied' if denies else 'needs approval'}: {why}, and policy `{rule.policy.name}` "
        f"{'denies' if denies else 'holds'} `{rule.finding_type}` findings it could hold",
        redactions,
        code,
    )


def _redaction(finding: Mapping[str, Any], mode: str) -> Redaction:
    path = finding.get("path")
    return Redaction(
        str(path) if path is not None else None,
        int(finding.get("start", 0)),
        int(finding.get("end", 0)),
        str(finding.get("type", "")),
        mode,
    )


def _where(finding: Mapping[str, Any]) -> str:
    return f" in `{finding['path']}`" if finding.get("path") else ""


def _reason(rule: ScanRule, finding: Mapping[str, Any]) -> str:
    where = _where(finding)
    verb = "denied" if rule.action == "deny" else "needs approval"
    found = f"`{finding.get('type')}` found{where} (score {float(finding.get('score', 0)):.2f})"
    if rule.reason:
        return f"{rule.reason}: {found}"
    return f"{verb} by policy `{rule.policy.name}`: {found}"
