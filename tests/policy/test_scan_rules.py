"""The `scan:` section: its shape errors, and the verdict it gives on findings (as data)."""

from __future__ import annotations

from typing import Any

import pytest

from proctor.model.decision import Effect
from proctor.model.request import Agent
from proctor.model.tiers import Tier
from proctor.policy import PolicyLoadError, compile_sources
from proctor.policy.compiler import PolicySource

BASE = """
name: {name}
{extra}
scan:
{scan}
rules:
  - {{action: "*:*", effect: allow}}
"""

SUPPORT = Agent("bot", "support", Tier.VERIFIED)


def compiled(scan: str, *, name: str = "p", extra: str = "") -> Any:
    text = BASE.format(name=name, extra=extra, scan=scan)
    return compile_sources([PolicySource(text, "p.yaml")])


def finding(kind: str, score: float = 0.9, path: str = "$.text") -> dict[str, Any]:
    return {"type": kind, "start": 0, "end": 4, "score": score, "scanner": "t", "path": path}


VERDICTS = [
    # (scan section, findings, expected effect, expected rule id or None)
    ("  input:\n    secret: deny", [finding("secret.jwt")], Effect.DENY, "p:scan.input.secret"),
    ("  input:\n    secret: deny", [finding("pii.email")], None, None),
    (
        "  input:\n    pii: deny\n    pii.email: allow",
        [finding("pii.email")],
        None,
        None,
    ),  # the most specific key decides
    (
        "  input:\n    pii: allow\n    pii.payment_card: require_approval",
        [finding("pii.email"), finding("pii.payment_card")],
        Effect.REQUIRE_APPROVAL,
        "p:scan.input.pii.payment_card",
    ),
    (
        "  input:\n    injection: {action: deny, min_score: 0.8}",
        [finding("injection.override", 0.7)],
        None,
        None,
    ),  # under min_score
    (
        "  input:\n    injection: {action: deny, min_score: 0.8}",
        [finding("injection.override", 0.8)],
        Effect.DENY,
        "p:scan.input.injection",
    ),
    (
        "  input:\n    secret: require_approval\n    pii: deny",
        [finding("secret.jwt"), finding("pii.ssn")],
        Effect.DENY,
        "p:scan.input.pii",
    ),  # deny beats approval whatever the order
    ("  output:\n    secret: deny", [finding("secret.jwt")], None, None),  # other direction
]


@pytest.mark.parametrize(("scan", "findings", "effect", "rule_id"), VERDICTS)
def test_the_verdict_on_findings(
    scan: str, findings: list[dict[str, Any]], effect: Effect | None, rule_id: str | None
) -> None:
    plan = compiled(scan).scanning.plan("input", "write:note", SUPPORT)
    if plan is None:
        assert effect is None
        return
    verdict = plan.verdict(findings)
    assert verdict.effect is effect
    if rule_id is not None:
        assert rule_id in verdict.rule_ids
        assert "found in `$.text`" in verdict.reason


def test_redact_lists_every_finding_to_mask_with_its_mode() -> None:
    plan = compiled("  output:\n    pii: {action: redact, mode: mask}").scanning.plan(
        "output", "read:x", SUPPORT
    )
    assert plan is not None
    assert plan.types == frozenset({"pii"})
    verdict = plan.verdict([finding("pii.email"), finding("pii.iban", path="$.b")])
    assert verdict.effect is None
    assert [(r.path, r.mode) for r in verdict.redactions] == [("$.text", "mask"), ("$.b", "mask")]
    assert verdict.rule_ids == ("p:scan.output.pii",)


def test_a_failed_stage_denies_only_under_fail_closed() -> None:
    failed = [{"scanner": "injection", "status": "over_budget", "detail": "took 40 ms"}]
    open_plan = compiled("  input:\n    pii: redact").scanning.plan("input", "a:b", SUPPORT)
    closed_plan = compiled("  fail: closed\n  input:\n    pii: redact").scanning.plan(
        "input", "a:b", SUPPORT
    )
    assert open_plan is not None
    assert closed_plan is not None
    assert open_plan.verdict([], failed).effect is None
    closed = closed_plan.verdict([], failed)
    assert closed.effect is Effect.DENY
    assert "over_budget" in closed.reason
    assert "fail: closed" in closed.reason


def test_a_stage_that_raised_gives_the_strictest_verdict_unless_fail_open_is_said() -> None:
    raised = [{"scanner": "injection", "status": "failed", "detail": "scanner raised ValueError"}]
    plan = compiled("  input:\n    pii: redact\n    secret: require_approval").scanning.plan(
        "input", "a:b", SUPPORT
    )
    assert plan is not None
    verdict = plan.verdict([], raised)
    assert verdict.effect is Effect.REQUIRE_APPROVAL
    assert verdict.code == "scan_failed"
    assert verdict.rule_ids == ("p:scan.fail",)
    assert "`injection` failed" in verdict.reason
    tolerant = compiled("  fail: open\n  input:\n    secret: deny").scanning.plan(
        "input", "a:b", SUPPORT
    )
    assert tolerant is not None
    assert tolerant.verdict([], raised).effect is None
    only_redacting = compiled("  input:\n    pii: redact").scanning.plan("input", "a:b", SUPPORT)
    assert only_redacting is not None
    assert only_redacting.verdict([], raised).effect is None  # nothing it would deny or hold


def test_actions_and_applies_to_narrow_where_a_section_scans() -> None:
    policies = compiled(
        '  actions: ["send:*"]\n  input:\n    pii: deny',
        extra="applies_to: {roles: [support]}",
    )
    assert policies.scanning.plan("input", "send:email", SUPPORT) is not None
    assert policies.scanning.plan("input", "read:orders", SUPPORT) is None
    other = Agent("ops", "ops", Tier.VERIFIED)
    assert policies.scanning.plan("input", "send:email", other) is None


def test_an_audit_mode_policy_enforces_no_scan() -> None:
    policies = compiled("  input:\n    secret: deny", extra="mode: audit")
    assert policies.scanning.plan("input", "a:b", SUPPORT) is None


def test_a_condition_on_findings_scans_for_every_type() -> None:
    text = """
name: p
rules:
  - {action: "*:*", effect: allow, when: "findings.secret.count == 0"}
"""
    policies = compile_sources([PolicySource(text, "p.yaml")])
    plan = policies.scanning.plan("input", "a:b", SUPPORT)
    assert plan is not None
    assert plan.types is None


BAD = [
    ("  input:\n    secret: block", "policy_invalid_action", "block"),
    ("  input:\n    secret: {action: deny, mde: mask}", "policy_unknown_key", "mde"),
    ("  input:\n    Secret!: deny", "policy_invalid_value", "not a finding type"),
    ("  input:\n    pii: {action: redact, min_score: 2}", "policy_invalid_value", "min_score"),
    ("  fail: maybe\n  input: {}", "policy_invalid_fail", "maybe"),
    ('  actions: ["read:**x"]', "policy_invalid_action", "actions"),
]


@pytest.mark.parametrize(("scan", "code", "mentioned"), BAD)
def test_a_bad_scan_section_is_a_located_error(scan: str, code: str, mentioned: str) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        compiled(scan)
    errors = caught.value.errors
    assert any(e.code == code for e in errors), [e.to_dict() for e in errors]
    rendered = "\n".join(str(e) for e in errors)
    assert "p.yaml:" in rendered


UNREAD = [
    # (scan section, expected effect, expected code) for content left unscanned
    ("  input:\n    secret: deny\n    pii: require_approval", Effect.DENY, "scan_truncated"),
    (
        "  input:\n    pii: require_approval\n    secret: redact",
        Effect.REQUIRE_APPROVAL,
        "scan_truncated",
    ),
    ("  input:\n    pii: redact", None, ""),  # nothing denied or held: nothing to fear
    ("  input:\n    secret: deny\n    scan.truncated: allow", None, ""),  # said outright
    ("  output:\n    secret: deny\n  input:\n    pii: redact", None, ""),  # other direction
]


@pytest.mark.parametrize(("scan", "effect", "code"), UNREAD)
def test_content_left_unscanned_gets_the_strictest_verdict(
    scan: str, effect: Effect | None, code: str
) -> None:
    plan = compiled(scan).scanning.plan("input", "write:note", SUPPORT)
    assert plan is not None
    cut = {**finding("scan.truncated", 0.0), "detail": "nested deeper than 32; not scanned"}
    verdict = plan.verdict([cut])
    assert verdict.effect is effect
    assert verdict.code == code
    if effect is not None:
        assert verdict.rule_ids == ("p:scan.input.scan.truncated",)
        assert "nested deeper than 32; not scanned in `$.text`" in verdict.reason
    found = plan.verdict([cut, finding("secret.jwt")])  # a real finding keeps its own verdict
    if effect is Effect.DENY:
        assert found.code == ""
        assert found.rule_ids == ("p:scan.input.secret",)


def test_a_rule_for_unscanned_content_decides_it() -> None:
    scan = "  input:\n    secret: deny\n    scan.truncated: require_approval"
    plan = compiled(scan).scanning.plan("input", "write:note", SUPPORT)
    assert plan is not None
    verdict = plan.verdict([finding("scan.truncated", 1.0)])
    assert verdict.effect is Effect.REQUIRE_APPROVAL
    assert verdict.rule_ids == ("p:scan.input.scan.truncated",)
