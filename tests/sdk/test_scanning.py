"""``proctor.sdk.scanning``: the scanners' loading functions, with the HTTP judge wired in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import proctor
from proctor.judge_http import HttpJudge
from proctor.scanners import Direction
from proctor.scanners.judge import JudgeScanner
from proctor.sdk.scanning import build_cascade, build_optional_scanner, configured_scanners
from tests.judge_server import attack_judge


@pytest.fixture(scope="module")
def judge_url() -> Iterator[str]:
    with attack_judge(0.9) as url:
        yield url


def test_a_judge_url_is_called_over_http(judge_url: str) -> None:
    scanner = build_optional_scanner("judge", {"url": judge_url, "min_chars": 1})
    assert isinstance(scanner, JudgeScanner)
    assert isinstance(scanner._judge, HttpJudge)
    (finding,) = scanner.scan("judge me", Direction.OUTPUT)
    assert (finding.type, finding.score) == ("injection.judge", 0.9)
    scanner._judge.close()


def test_configured_scanners_and_build_cascade_take_a_judge_url(judge_url: str) -> None:
    options = {"judge": {"url": judge_url, "min_chars": 1}}
    names = [s.name for s in configured_scanners(["pii", "judge"], options)]
    assert names == ["pii", "injection_judge"]
    cascade = build_cascade(["judge"], options=options, budget_ms=5_000)
    result = cascade.scan("judge me", Direction.OUTPUT)
    assert [f.type for f in result.findings] == ["injection.judge"]


def test_scan_reads_text_and_bytes_alike() -> None:
    text = "mail jane.doe@example.com"
    assert [f.type for f in proctor.scan(text).findings] == ["pii.email"]
    assert [f.type for f in proctor.scan(text.encode()).findings] == ["pii.email"]
