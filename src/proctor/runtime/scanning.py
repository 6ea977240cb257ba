"""The one place a policy's ``scan:`` sections are applied, to a call and to a tool's result.

The policy set compiles the sections into a plan and computes a verdict from
findings (``policy/scan_rules.py``: pure, compiled once with the rules); the
detectors are in ``scanners/``. Applying them needs what only a running
runtime holds (the cascade, loaded once; the redaction key; the provenance
store), so it lives here: scanning a call's arguments before its policies run
(so ``when`` conditions can read ``findings``), folding the verdict into the
policies' decision, redacting findings in arguments, records and results, and
judging a result (allow, redact, withhold, or hold for an approval). A result's
candidate values (IBANs, e-mail addresses, URLs...) enter the run's provenance
ledger as untrusted, so a later argument carrying one is tainted. Nothing here
runs unless a policy asks for it or a run records outputs.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from proctor.model.decision import EFFECT_PRECEDENCE, Decision, Effect
from proctor.scanners import Cascade
from proctor.scanners.bounds import TRUNCATED, Bounds, strings_in
from proctor.scanners.provenance import (
    CandidateValue,
    ProvenanceLedgers,
    Source,
    all_values,
    injected_values,
)
from proctor.scanners.redaction import Redactor, Span
from proctor.storage.contracts import ProvenanceStore

if TYPE_CHECKING:  # the policy compiler loads with the first policy set, not with the runtime
    from proctor.policy.scan_rules import ScanPlan, ScanVerdict

CascadeFactory = Callable[[], Cascade]
SCAN_DENIED = "scan_denied"
SCAN_APPROVAL = "scan_approval"
# Types whose matched text never goes into a record, whatever the policy says of them.
_NEVER_RECORDED = ("secret", "pii")
# The built-in scanners find nothing in a string without a digit, `@`, `:` or `=` that is
# shorter than 16 characters: such arguments (most enums and names) skip the record's scan.
_BUILT_IN = ("proctor.scanners.pii", "proctor.scanners.secrets")  # modules and packages
_MARKS = re.compile(r"[\d@:=]")
_SHORT = 16


_LEAVES = frozenset((int, float, bool, type(None)))
# Argument names come from tool signatures and repeat call after call: the plain ones are
# remembered (names only, never values), so the common call reads each with a set lookup.
_PLAIN_KEYS: set[str] = set()
_PLAIN_KEYS_LIMIT = 4096


def _plain(value: Any, depth: int) -> bool:
    """True when ``value`` holds only numbers, booleans, nulls and short strings without a
    digit, `@`, `:` or `=` (keys included): nothing the built-in scanners could find.

    Exact types (the normalised arguments are plain JSON values): anything else takes
    the full scan. A mapping's names and leaves are read in one loop, not a call each
    (this runs on every recorded check).
    """
    kind = type(value)
    if kind is dict and depth < 8:  # deeper trees take the full scan, which says what it missed
        for key, item in value.items():
            if key not in _PLAIN_KEYS and not _plain_key(key, depth):
                return False
            kind = type(item)
            if kind is str:  # letters alone hold no mark (the common enum or name)
                if len(item) >= _SHORT or (not item.isalpha() and _MARKS.search(item) is not None):
                    return False
            elif kind is list and depth < 7:  # a list of names (tags): read here, not by a call
                for element in item:
                    kind = type(element)
                    if kind is str:
                        if len(element) >= _SHORT or (
                            not element.isalpha() and _MARKS.search(element) is not None
                        ):
                            return False
                    elif kind not in _LEAVES and not _plain(element, depth + 2):
                        return False
            elif kind not in _LEAVES and not _plain(item, depth + 1):
                return False
        return True
    if kind is str:
        return len(value) < _SHORT and _MARKS.search(value) is None
    if kind in _LEAVES:
        return True
    if kind is list and depth < 8:
        for item in value:  # a loop, not a call per item: lists of names are common
            kind = type(item)
            if kind is str:
                if len(item) >= _SHORT or (not item.isalpha() and _MARKS.search(item) is not None):
                    return False
            elif kind not in _LEAVES and not _plain(item, depth + 1):
                return False
        return True
    return False


def _plain_key(key: Any, depth: int) -> bool:
    """``_plain`` for a mapping's key; a plain name is remembered."""
    if not _plain(key, depth):
        return False
    if type(key) is str:
        if len(_PLAIN_KEYS) >= _PLAIN_KEYS_LIMIT:
            _PLAIN_KEYS.clear()
        _PLAIN_KEYS.add(key)
    return True


@lru_cache(maxsize=64)
def _built_in_only(cascade: Cascade, wanted: tuple[str, ...]) -> bool:
    """True when every stage of ``cascade`` that looks for ``wanted`` is a built-in one."""
    for stage in cascade.stages:
        module = type(stage).__module__
        if any(kind in stage.types for kind in wanted) and not (
            module in _BUILT_IN or module.startswith(tuple(f"{name}." for name in _BUILT_IN))
        ):
            return False
    return True


class StoredArgs(StrEnum):
    """How a decision record keeps the call's arguments (``audit.store_args``)."""

    REDACTED = "redacted"  # personal data and secrets as placeholders (the default)
    CLEAR = "clear"  # as passed
    DIGEST = "digest"  # none: only ``args_digest``


# read once: a member read through its enum class costs several times a module global
_CLEAR, _DIGEST = StoredArgs.CLEAR, StoredArgs.DIGEST


SCAN_UNAVAILABLE = "scan_unavailable"
PROVENANCE_UNAVAILABLE = "provenance_unavailable"  # the shared store failed: fail closed
# An output's injection finding at this score contaminates its run (``run.injection_seen``):
# the score a deny-on-injection policy uses, above stage 1's weak signals.
CONTAMINATION_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class Scanned:
    """Findings and stage reports of one scan, as the dicts decisions and records carry."""

    findings: tuple[dict[str, Any], ...]
    stages: tuple[dict[str, Any], ...]
    error: str | None = None  # the scanners could not run at all: deny the call, withhold a result


@dataclass(frozen=True, slots=True)
class OutputReview:
    """What may go back to the agent from a tool's result.

    ``value`` is the result with redactions applied (None when withheld);
    ``effect`` is allow, deny (withheld) or require_approval (withheld until a
    person approves; ``approval_id`` names it).
    """

    effect: Effect
    value: Any
    reason: str
    findings: tuple[dict[str, Any], ...] = ()
    rule_ids: tuple[str, ...] = ()
    redacted: bool = False
    review_id: str = ""
    approval_id: str | None = None
    code: str = ""

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "effect": self.effect.value,
            "allowed": self.allowed,
            "reason": self.reason,
            "findings": list(self.findings),
            "rule_ids": list(self.rule_ids),
            "redacted": self.redacted,
            "review_id": self.review_id,
            "value": self.value,
        }
        if self.approval_id is not None:
            body["approval_id"] = self.approval_id
        if self.code:
            body["code"] = self.code
        return body


# Binds a held result to an approval: the verdict and the value an approval would release.
OutputHold = Callable[["ScanVerdict", Any], OutputReview]


def _loading() -> ModuleType:
    """``proctor.scanners.loading`` on first use: it loads pydantic, unused unless a scan runs."""
    import proctor.scanners.loading

    return proctor.scanners.loading


class ContentGuard:
    """Scanners, redaction and per-run provenance, loaded once per runtime."""

    def __init__(
        self,
        cascade: CascadeFactory | None = None,
        *,
        redaction_key: bytes | None = None,
        provenance: ProvenanceStore | None = None,
    ) -> None:
        self._factory = cascade  # None: the default cascade (`scanners.loading`), loaded on use
        self._cascade: Cascade | None = None
        self._patterns: Cascade | None = None  # the record's scan when nothing else is loaded
        self._lock = threading.Lock()
        self.redactor = Redactor(redaction_key or os.urandom(32))
        # per process unless the runtime was given the state database's store
        # (``is None``: empty ledgers have a length of 0 and would read as false)
        self.provenance: ProvenanceStore = (
            provenance if provenance is not None else ProvenanceLedgers()
        )

    @property
    def cascade(self) -> Cascade:
        if self._cascade is None:
            with self._lock:
                if self._cascade is None:
                    self._cascade = (self._factory or _loading().default_cascade)()
        return self._cascade

    def _recording_cascade(self) -> Cascade:
        """The configured cascade; without one, the built-in pattern scanners for personal
        data and secrets alone (the classifier is not loaded for a record)."""
        if self._cascade is not None or self._factory is not None:
            return self.cascade
        if self._patterns is None:
            with self._lock:
                if self._patterns is None:
                    self._patterns = _loading().build_cascade(["pii", "secrets"])
        return self._patterns

    def scan(self, plan: ScanPlan, tree: Any) -> Scanned:
        """Arguments or a result, scanned for what ``plan`` asks; never raises."""
        try:
            result = self.cascade.scan_arguments(tree, plan.direction, types=plan.types)
        except Exception as exc:  # scanners that cannot load or run: deny, never skip
            return Scanned((), (), f"{type(exc).__name__}: {exc}")
        return Scanned(
            tuple(f.to_dict() for f in result.findings),
            tuple(s.to_dict() for s in result.stages),
        )

    def judge_input(
        self, plan: ScanPlan, scanned: Scanned, decision: Decision, args: Mapping[str, Any]
    ) -> Decision:
        """The policies' ``decision`` with the ``scan:`` verdict and the findings folded in."""
        if scanned.error is not None:
            return replace(
                decision,
                effect=Effect.DENY,
                reason=f"denied: the scanners this call needs could not run ({scanned.error})",
                code=SCAN_UNAVAILABLE,
            )
        verdict = plan.verdict(scanned.findings, scanned.stages)
        decision = replace(decision, findings=scanned.findings)
        if verdict.redactions:
            decision = replace(
                decision,
                redacted_args=self.redactor.tree(dict(args), _spans(verdict)),
                obligations=(*decision.obligations, _redaction_obligation(verdict)),
            )
        return combine(decision, verdict)

    def stored_args(
        self,
        mode: StoredArgs,
        args: dict[str, Any],
        plan: ScanPlan | None,
        scanned: Scanned | None,
    ) -> tuple[Any, dict[str, Any]]:
        """The arguments as the audit keeps them, and what the record says of how.

        Redacted: every personal-data and secret finding becomes a placeholder,
        whatever the policies scanned for; arguments that could not be scanned
        whole are kept as their digest only (fail closed: no value in clear).
        """
        if mode is _CLEAR or not args:
            return args, {}
        if mode is _DIGEST:
            return {}, {"args_stored": StoredArgs.DIGEST.value}
        only_patterns = plan is None and self._cascade is None
        if only_patterns and self._factory is None and _plain(args, 0):
            return args, {}  # the common call: the built-in patterns would find nothing
        findings = self._recorded_findings(args, plan, scanned)
        if findings is None:
            why = "the arguments could not be scanned whole for personal data and secrets"
            return {}, {"args_stored": StoredArgs.DIGEST.value, "args_stored_reason": why}
        spans = [
            Span(str(f["path"]), int(f["start"]), int(f["end"]), str(f["type"]))
            for f in findings
            if f.get("path") is not None and str(f.get("type", "")).startswith(_NEVER_RECORDED)
        ]
        if not spans:
            return args, {}
        redacted = sorted({(span.path or "$", span.finding_type) for span in spans})
        return self.redactor.tree(args, spans), {
            "args_redacted": [{"path": path, "type": kind} for path, kind in redacted]
        }

    def _recorded_findings(
        self, args: dict[str, Any], plan: ScanPlan | None, scanned: Scanned | None
    ) -> list[Mapping[str, Any]] | None:
        """Personal-data and secret findings in ``args``: the policies' scan where it looked
        for them, a scan of the cheap pattern stages otherwise; None when incomplete."""
        found: list[Mapping[str, Any]] = []
        wanted = list(_NEVER_RECORDED)
        if plan is not None and scanned is not None and scanned.error is None:
            found.extend(scanned.findings)
            wanted = [kind for kind in wanted if not _covers(plan.types, kind)]
        if not wanted:
            return None if _truncated(found) else found
        try:
            cascade = self._recording_cascade()
            if self._skips(cascade, args, wanted):
                return found
            result = cascade.scan_arguments(args, "input", types=wanted)
        except Exception:  # scanners that cannot load or run: keep no value in clear
            return None
        found.extend(f.to_dict() for f in result.findings)
        return None if _truncated(found) else found

    @staticmethod
    def _skips(cascade: Cascade, args: dict[str, Any], wanted: Collection[str]) -> bool:
        """True when only the built-in scanners look for ``wanted`` and no string of ``args``
        holds what they need to find anything (the common call, kept cheap)."""
        if not _plain(args, 0):
            return False
        return _built_in_only(cascade, tuple(wanted))

        # -- output ---------------------------------------------------------------------------

    def judge_output(
        self,
        plan: ScanPlan | None,
        scanned: Scanned | None,
        result: Any,
        tree: Any,
        review_id: str,
        hold: OutputHold,
    ) -> OutputReview:
        """Allow, redact or withhold ``result`` as the ``scan: output`` verdict says.

        ``tree`` is the result as JSON values (``output_tree``); redactions apply
        to it. A verdict asking for approval goes to ``hold`` with the value an
        approval would release (redacted where the verdict says).
        """
        if plan is None or scanned is None:
            return OutputReview(Effect.ALLOW, result, "nothing to act on", review_id=review_id)
        verdict = plan.verdict(scanned.findings, scanned.stages)
        if verdict.effect is None and not verdict.redactions:
            return OutputReview(Effect.ALLOW, result, "nothing to act on", review_id=review_id)
        if verdict.effect is Effect.DENY:
            code = verdict.code or SCAN_DENIED
            return withheld(review_id, verdict.reason, code, verdict.rule_ids)
        value = self.redact_output(tree, verdict) if verdict.redactions else result
        if verdict.effect is None:
            return OutputReview(
                Effect.ALLOW,
                value,
                "redacted by policy",
                rule_ids=verdict.rule_ids,
                redacted=True,
                review_id=review_id,
                code="redacted",
            )
        return hold(verdict, value)

    def redact_output(self, value: Any, verdict: ScanVerdict) -> Any:
        """``value`` with the verdict's redactions; a bare string is scanned at path ``$``."""
        return self.redactor.tree(value, _spans(verdict))

    def remember_output(self, run_id: str, tree: Any, source: Source) -> None:
        self.provenance.remember_untrusted(run_id, tree, source)

    def remember_task(self, run_id: str, content: Any) -> None:
        self.provenance.remember_trusted(run_id, content)

    def remember_injection(
        self, run_id: str, findings: Collection[Mapping[str, Any]], source: Source, tree: Any
    ) -> None:
        """The run saw an injection when ``findings`` (of the result ``tree``) hold one at
        ``CONTAMINATION_SCORE``; the values near those findings are the ones it named."""
        strong = [
            f
            for f in findings
            if str(f.get("type", "")).startswith("injection")
            and float(f["score"]) >= CONTAMINATION_SCORE
        ]
        if not strong:
            return
        score = max(float(f["score"]) for f in strong)
        bounds = self._cascade.bounds if self._cascade is not None else Bounds()
        named = named_values(tree, strong, bounds)
        self.provenance.remember_injection(run_id, source, score, named)

    def injections(self, run_id: str) -> tuple[dict[str, Any], ...]:
        """The outputs of run ``run_id`` that held an injection finding (a store failure raises)."""
        return self.provenance.injections(run_id)

    def taint(self, run_id: str | None, args: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Tainted arguments of a call in run ``run_id`` (a store failure raises)."""
        if run_id is None:
            return {}
        return self.provenance.taint_of(run_id, args)


def named_values(
    tree: Any, findings: Collection[Mapping[str, Any]], bounds: Bounds
) -> frozenset[CandidateValue]:
    """The candidate values near the spans of ``findings`` in the strings of ``tree`` (a
    finding's ``path`` as the scanners spell it, ``$`` for a bare string). A finding that
    cannot be placed (no such string, no integer span) names every value of ``tree``."""
    texts = dict(strings_in(tree, bounds)[0])
    spans: dict[str, list[tuple[int, int]]] = {}
    for finding in findings:
        path = str(finding.get("path") or "$")
        start, end = finding.get("start"), finding.get("end")
        if path not in texts or type(start) is not int or type(end) is not int:
            return frozenset(all_values(tree))
        spans.setdefault(path, []).append((start, end))
    named: set[CandidateValue] = set()
    for path, found in spans.items():
        named |= injected_values(texts[path], found)
    return frozenset(named)


def combine(decision: Decision, verdict: ScanVerdict) -> Decision:
    """The stricter of the policies' effect and the scan verdict's (deny wins)."""
    effect = verdict.effect
    if effect is None:
        if verdict.rule_ids:
            return replace(decision, rule_ids=_merged(decision.rule_ids, verdict.rule_ids))
        return decision
    if EFFECT_PRECEDENCE[effect] <= EFFECT_PRECEDENCE[decision.effect]:
        return replace(decision, rule_ids=_merged(decision.rule_ids, verdict.rule_ids))
    return replace(
        decision,
        effect=effect,
        reason=verdict.reason,
        rule_ids=verdict.rule_ids,
        code=verdict.code or (SCAN_DENIED if effect is Effect.DENY else SCAN_APPROVAL),
    )


def _covers(types: frozenset[str] | None, kind: str) -> bool:
    """Whether a plan that scanned for ``types`` looked for every finding of ``kind``."""
    return types is None or kind in types


def _truncated(findings: Collection[Mapping[str, Any]]) -> bool:
    return any(str(f.get("type", "")) == TRUNCATED for f in findings)


def _spans(verdict: ScanVerdict) -> list[Span]:
    return [Span(r.path or "$", r.start, r.end, r.finding_type, r.mode) for r in verdict.redactions]


def _redaction_obligation(verdict: ScanVerdict) -> dict[str, Any]:
    return {
        "redact": sorted({r.path or "$" for r in verdict.redactions}),
        "types": sorted({r.finding_type for r in verdict.redactions}),
    }


def _merged(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def withheld(
    review_id: str, reason: str, code: str, rule_ids: tuple[str, ...] = ()
) -> OutputReview:
    return OutputReview(
        Effect.DENY, None, reason, rule_ids=rule_ids, review_id=review_id, code=code
    )
