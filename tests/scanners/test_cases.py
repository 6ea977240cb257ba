"""The scanning corpus (tests/scanners/cases/*.yaml), run through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from proctor.cli.main import cli
from proctor.scanners import Finding
from proctor.sdk.scanning import scan

CASES = Path(__file__).parent / "cases"
TYPED = ["pii.yaml", "secrets.yaml", "injection.yaml"]


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load((CASES / name).read_text())["cases"]
    return cases


def _typed_cases() -> list[Any]:
    return [
        pytest.param(case, id=f"{name[:-5]}-{case['name']}")
        for name in TYPED
        for case in _load(name)
    ]


def _matches(finding: Finding, prefix: str) -> bool:
    return finding.type == prefix or finding.type.startswith(prefix + ".")


def _check(case: dict[str, Any], findings: list[Finding]) -> None:
    kinds = [f.type for f in findings]
    for expected in case.get("expect", []):
        assert any(_matches(f, expected) for f in findings), (expected, kinds)
    for absent in case.get("absent", []):
        assert not any(_matches(f, absent) and f.score >= 0.5 for f in findings), (absent, kinds)


@pytest.mark.parametrize("case", _typed_cases())
def test_library(case: dict[str, Any]) -> None:
    text = case["text"]
    findings = list(scan(text, direction=case.get("direction", "output")).findings)
    _check(case, findings)
    for finding in findings:
        assert 0 <= finding.start <= finding.end <= len(text)
        assert 0.0 <= finding.score <= 1.0
        matched = text[finding.start : finding.end]
        if len(matched) >= 6 and finding.category in {"pii", "secret"}:
            assert matched not in finding.detail  # the raw value never leaves in `detail`


@pytest.mark.parametrize("case", _load("benign.yaml"), ids=lambda c: c["text"][:40])
def test_benign_trigger_words_are_not_injection(case: dict[str, Any]) -> None:
    result = scan(case["text"], direction="output")
    assert result.of_type("injection") == (), [f.to_dict() for f in result.findings]


def test_the_corpus_through_the_cli() -> None:
    cases = [case for name in TYPED for case in _load(name)]
    lines = "\n".join(
        json.dumps({"id": i, "text": c["text"], "direction": c.get("direction", "output")})
        for i, c in enumerate(cases)
    )
    result = CliRunner().invoke(cli, ["scan", "--jsonl"], input=lines)
    assert result.exit_code == 0, result.output
    bodies = [json.loads(line) for line in result.output.splitlines()]
    assert [b["id"] for b in bodies] == list(range(len(cases)))
    for case, body in zip(cases, bodies, strict=True):
        findings = [
            Finding(f["type"], f["start"], f["end"], f["score"], f["scanner"], f["detail"])
            for f in body["findings"]
        ]
        _check(case, findings)


def test_the_corpus_is_large_enough() -> None:
    assert sum(len(_load(name)) for name in [*TYPED, "benign.yaml"]) >= 100
