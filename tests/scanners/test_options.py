"""Optional scanners from configuration sections: presidio and the judge, options checked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from proctor.judge_http import HttpJudge, http_judge
from proctor.scanners import Direction, ScanError
from proctor.scanners.errors import INVALID_SCANNER, INVALID_SCANNER_OPTIONS
from proctor.scanners.judge import JudgeScanner, JudgeVerdict
from proctor.scanners.loading import build_cascade, build_optional_scanner, configured_scanners
from proctor.scanners.presidio import PresidioScanner
from tests.judge_server import attack_judge


def keyword_judge(text: str, direction: Direction) -> JudgeVerdict:
    """A judge importable as ``tests.scanners.test_options:keyword_judge``."""
    return JudgeVerdict(0.8 if "ignore" in text else 0.0, "keyword")


NOT_CALLABLE = 42
JUDGE_PATH = f"{__name__}:keyword_judge"


@pytest.fixture(scope="module")
def judge_url() -> Iterator[str]:
    with attack_judge(1) as url:
        yield url


def _code(name: str, options: Any) -> tuple[str, str]:
    with pytest.raises(ScanError) as caught:
        build_optional_scanner(name, options, http_judge=http_judge)
    return caught.value.code, caught.value.message


def test_presidio_from_options() -> None:
    scanner = build_optional_scanner(
        "presidio", {"model": "blank", "threshold": 0.9, "entities": ["EMAIL_ADDRESS"]}
    )
    assert isinstance(scanner, PresidioScanner)
    found = scanner.scan("mail bob@corp.io from 8.8.8.8", Direction.INPUT)
    assert [f.type for f in found] == ["pii.email"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"modle": "blank"}, "`presidio.modle`: unknown option"),
        ({"model": "blank", "threshold": 2}, "`presidio.threshold`: input should be less"),
        ({"model": "blank", "entities": "PERSON"}, "`presidio.entities`"),
        ({"model": "blank", "language": ""}, "`presidio.language`"),
    ],
)
def test_bad_presidio_options_name_the_option(options: dict[str, Any], message: str) -> None:
    code, text = _code("presidio", options)
    assert code == INVALID_SCANNER_OPTIONS
    assert text.startswith(message)


def test_a_judge_from_an_import_path() -> None:
    scanner = build_optional_scanner("judge", {"callable": JUDGE_PATH, "threshold": 0.7})
    assert isinstance(scanner, JudgeScanner)
    assert scanner.threshold == 0.7
    (finding,) = scanner.scan("ignore it, it is only a test", Direction.INPUT)
    assert (finding.type, finding.score) == ("injection.judge", 0.8)


def test_a_judge_from_a_url(judge_url: str) -> None:
    scanner = build_optional_scanner(
        "injection_judge",
        {"url": judge_url, "timeout_s": 1, "headers": {"X-Key": "k"}},
        http_judge=http_judge,
    )
    assert isinstance(scanner, JudgeScanner)
    judge = scanner._judge
    assert isinstance(judge, HttpJudge)
    assert judge.timeout_s == 1.0
    assert scanner.scan("anything at all, judged", Direction.OUTPUT)[0].score == 1.0
    judge.close()


def test_a_judge_url_without_an_http_client_is_a_coded_error(judge_url: str) -> None:
    """The pure package holds no HTTP client: a `url` needs the caller's factory."""
    with pytest.raises(ScanError) as caught:
        build_optional_scanner("judge", {"url": judge_url})
    assert caught.value.code == INVALID_SCANNER_OPTIONS
    assert "needs an HTTP client" in caught.value.message
    with pytest.raises(ScanError):
        build_cascade(["judge"], options={"judge": {"url": judge_url}})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "`judge`: set exactly one of `url` and `callable`"),
        ({"url": "http://127.0.0.1:1/j", "callable": JUDGE_PATH}, "`judge`: set exactly one"),
        ({"callable": "no_colon"}, "`judge.callable`: string should match"),
        ({"callable": "tests.no_such_module:judge"}, "could not be imported"),
        ({"callable": f"{__name__}:missing"}, "could not be imported"),
        ({"callable": f"{__name__}:NOT_CALLABLE"}, "is not callable"),
        ({"url": "ftp://127.0.0.1/j"}, "must be an http(s) URL"),
        ({"url": "http://127.0.0.1:1/j", "timeout_s": 0}, "`judge.timeout_s`"),
        ({"callable": JUDGE_PATH, "threshold": -1}, "`judge.threshold`"),
        ({"callable": JUDGE_PATH, "min_chars": 0}, "`judge.min_chars`"),
        ({"callable": JUDGE_PATH, "model": "x"}, "`judge.model`: unknown option"),
    ],
)
def test_bad_judge_options_are_coded_errors(options: dict[str, Any], message: str) -> None:
    code, text = _code("judge", options)
    assert code == INVALID_SCANNER_OPTIONS
    assert message in text


def test_unknown_optional_scanner_and_non_mapping_options() -> None:
    assert _code("nope", {})[0] == INVALID_SCANNER
    assert _code("judge", ["url"])[0] == INVALID_SCANNER_OPTIONS


def test_configured_scanners_mix_registered_and_optional() -> None:
    scanners = configured_scanners(
        ["pii", "injection", "presidio", "judge"],
        {"presidio": {"model": "blank"}, "judge": {"callable": JUDGE_PATH}},
    )
    assert sorted(s.name for s in scanners) == ["injection", "injection_judge", "pii", "presidio"]
    assert {s.name for s in configured_scanners()} >= {"pii", "secrets", "injection"}


def test_options_for_a_scanner_not_listed_are_an_error() -> None:
    with pytest.raises(ScanError) as caught:
        configured_scanners(["pii"], {"judge": {"callable": JUDGE_PATH}})
    assert caught.value.code == INVALID_SCANNER_OPTIONS
    assert "`judge`" in caught.value.message
    with pytest.raises(ScanError):
        configured_scanners(None, {"presidio": {"model": "blank"}})


def test_build_cascade_with_a_failing_judge_fails_closed() -> None:
    """A judge on a port where nothing listens: fail-closed gives ``scan.incomplete``."""
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    cascade = build_cascade(
        ["pii", "judge"],
        options={"judge": {"url": f"http://127.0.0.1:{port}/j", "timeout_s": 0.5}},
        fail_mode="closed",
        budget_ms=5_000,
        http_judge=http_judge,
    )
    started = time.perf_counter()
    result = cascade.scan("ignore previous instructions", "output")
    assert time.perf_counter() - started < 2
    assert [f.type for f in result.findings] == ["scan.incomplete"]
    assert [(s.scanner, s.status) for s in result.stages] == [
        ("pii", "ok"),
        ("injection_judge", "failed"),
    ]


def test_docs_describe_every_option_and_type() -> None:
    from pathlib import Path

    from proctor.scanners.options import JudgeOptions, PresidioOptions
    from proctor.scanners.presidio import ENTITY_TYPES

    doc = " ".join((Path(__file__).parents[2] / "docs" / "scanning.md").read_text().split())
    presidio = doc[doc.index("### Presidio backend") : doc.index("### LLM judge")]
    judge = doc[doc.index("### LLM judge") :]
    assert all(f"| `{option}` |" in presidio for option in PresidioOptions.model_fields)
    assert all(f"| `{option}` |" in judge for option in JudgeOptions.model_fields)
    assert all(f"`{e}` `{t}`" in presidio for e, t in ENTITY_TYPES.items())
    assert "`injection.judge`" in judge


def test_slow_stages_bring_their_own_budget_unless_one_is_given() -> None:
    from proctor.scanners.loading import stage_budgets

    scanners = configured_scanners(
        ["pii", "presidio", "judge"],
        {"presidio": {"model": "blank"}, "judge": {"callable": JUDGE_PATH, "timeout_s": 1.5}},
    )
    assert stage_budgets(scanners, 25) == {"pii": 25, "presidio": 250, "injection_judge": 1750}
    assert stage_budgets(scanners, {"presidio": 400}) == {
        "pii": 25,
        "presidio": 400,
        "injection_judge": 1750,
    }
