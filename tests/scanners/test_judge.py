"""The judge stage: a verdict as an ``injection.judge`` finding; failures go to the cascade."""

from __future__ import annotations

import pytest

from proctor.scanners import Cascade, Direction, InjectionScanner, PiiScanner, ScanError
from proctor.scanners.errors import INVALID_SCANNER_OPTIONS, JUDGE_FAILED
from proctor.scanners.judge import JudgeScanner, JudgeVerdict, verdict_of
from proctor.sdk.scanning import load_scanners

LONG = "a text long enough to be judged"


class StepTimer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class KeywordJudge:
    """Says ``ignore`` is an attack; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Direction]] = []

    def __call__(self, text: str, direction: Direction) -> JudgeVerdict:
        self.asked.append((text, direction))
        if "ignore" in text:
            return JudgeVerdict(0.9, "asks the agent to drop its instructions")
        return JudgeVerdict(0.1, "plain data")


def test_a_verdict_over_the_threshold_is_a_finding_over_the_whole_text() -> None:
    judge = KeywordJudge()
    scanner = JudgeScanner(judge)
    text = "please ignore the rules"
    (finding,) = scanner.scan(text, Direction.OUTPUT)
    assert (finding.type, finding.start, finding.end) == ("injection.judge", 0, len(text))
    assert finding.score == 0.9
    assert finding.scanner == "injection_judge"
    assert finding.detail == "asks the agent to drop its instructions"
    assert judge.asked == [(text, Direction.OUTPUT)]
    assert scanner.scan("the weather is fine", Direction.OUTPUT) == ()


def test_threshold_and_name_are_settable() -> None:
    scanner = JudgeScanner(lambda text, direction: 0.4, threshold=0.3, name="review")
    (finding,) = scanner.scan(LONG, Direction.INPUT)
    assert (finding.scanner, finding.score, finding.detail) == ("review", 0.4, "judge")
    assert (
        JudgeScanner(lambda text, direction: 0.4, threshold=0.5).scan(LONG, Direction.INPUT) == ()
    )


def test_numbers_and_bools_are_verdicts() -> None:
    assert verdict_of(True) == JudgeVerdict(1.0)
    assert verdict_of(False) == JudgeVerdict(0.0)
    assert verdict_of(1) == JudgeVerdict(1.0)
    assert verdict_of(0.25) == JudgeVerdict(0.25)
    assert JudgeScanner(lambda text, direction: True).scan(LONG, Direction.INPUT)[0].score == 1.0


@pytest.mark.parametrize("answer", [1.5, -0.1, float("nan"), "0.9", None, {"score": 1}])
def test_a_nonsense_answer_is_a_judge_failure(answer: object) -> None:
    with pytest.raises(ScanError) as caught:
        verdict_of(answer)
    assert caught.value.code == JUDGE_FAILED


def test_the_reason_is_kept_short_and_on_one_line() -> None:
    scanner = JudgeScanner(lambda text, direction: JudgeVerdict(1, "a\n  b " + "c" * 500))
    detail = scanner.scan(LONG, Direction.INPUT)[0].detail
    assert detail.startswith("a b c")
    assert len(detail) == 200


def test_blank_and_short_texts_are_not_sent_to_the_judge() -> None:
    judge = KeywordJudge()
    assert JudgeScanner(judge).scan("  \n", Direction.INPUT) == ()
    assert JudgeScanner(judge).scan("  ignore it, order 42 ", Direction.INPUT) == ()
    assert judge.asked == []
    assert JudgeScanner(judge, min_chars=5).scan("ignore it", Direction.INPUT)
    assert judge.asked == [("ignore it", Direction.INPUT)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 2},
        {"threshold": True},
        {"name": ""},
        {"judge": "not callable"},
        {"budget_ms": 0},
        {"min_chars": 0},
    ],
)
def test_bad_arguments_are_coded_errors(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"judge": KeywordJudge(), **kwargs}
    with pytest.raises(ScanError) as caught:
        JudgeScanner(**arguments)  # type: ignore[arg-type]
    assert caught.value.code == INVALID_SCANNER_OPTIONS


def _raising(text: str, direction: Direction) -> float:
    raise TimeoutError("judge too slow")


def test_a_failing_judge_fails_open_or_closed_as_the_cascade_says() -> None:
    opened = Cascade([PiiScanner(), JudgeScanner(_raising)], timer=StepTimer(), fail_mode="open")
    result = opened.scan(LONG)
    assert result.findings == ()
    assert [(s.scanner, s.status) for s in result.stages] == [
        ("pii", "ok"),
        ("injection_judge", "failed"),
    ]
    closed = Cascade([JudgeScanner(_raising)], timer=StepTimer(), fail_mode="closed")
    (incomplete,) = closed.scan(LONG).findings
    assert (incomplete.type, incomplete.score, incomplete.scanner) == (
        "scan.incomplete",
        1.0,
        "injection_judge",
    )


def test_the_judge_runs_last_and_only_when_injection_is_asked_for() -> None:
    judge = KeywordJudge()
    cascade = Cascade([JudgeScanner(judge), InjectionScanner(), PiiScanner()], timer=StepTimer())
    assert [s.name for s in cascade.stages] == ["pii", "injection", "injection_judge"]
    cascade.scan("please ignore this note", types=["pii"])
    assert judge.asked == []
    result = cascade.scan("please ignore this note", types=["injection"])
    assert [f.type for f in result.findings] == ["injection.judge"]
    assert len(judge.asked) == 1


def test_the_default_scanners_have_no_judge() -> None:
    assert "injection.judge" not in {t for s in load_scanners() for t in s.types}
