"""The Presidio scanner against the real presidio-analyzer, offline, without a spaCy model.

The analyzer runs Presidio's own pattern recognizers over a blank spaCy
pipeline (``model="blank"``), so no model is downloaded or needed.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from proctor.scanners import Cascade, Direction, PiiScanner, ScanError
from proctor.scanners.errors import INVALID_SCANNER_OPTIONS, SCANNER_UNAVAILABLE
from proctor.scanners.presidio import (
    DEFAULT_MODELS,
    INSTALL_HINT,
    Analyzer,
    PresidioScanner,
    build_analyzer,
    finding_type,
    spacy_model_for,
)

TEXT = "Mail bob@corp.io, card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32, from 8.8.8.8"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return build_analyzer("en", "blank")


@pytest.fixture(scope="module")
def scanner(analyzer: Analyzer) -> PresidioScanner:
    return PresidioScanner(analyzer)


def _spans(scanner: PresidioScanner, text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in scanner.scan(text, Direction.INPUT):
        found.setdefault(f.type, []).append(text[f.start : f.end])
    return found


def test_presidio_entities_become_pii_findings_with_their_spans(scanner: PresidioScanner) -> None:
    found = _spans(scanner, TEXT)
    assert found["pii.email"] == ["bob@corp.io"]
    assert found["pii.payment_card"] == ["4111 1111 1111 1111"]
    assert found["pii.iban"] == ["GB82 WEST 1234 5698 7654 32"]
    assert found["pii.ip_address"] == ["8.8.8.8"]


def test_findings_carry_presidio_scores_and_never_the_value(scanner: PresidioScanner) -> None:
    findings = scanner.scan(TEXT, Direction.OUTPUT)
    assert findings
    for f in findings:
        assert f.scanner == "presidio"
        assert 0.5 <= f.score <= 1
        assert TEXT[f.start : f.end] not in f.detail
    email = next(f for f in findings if f.type == "pii.email")
    assert email.score == 1.0
    assert email.detail == "presidio EMAIL_ADDRESS"


def test_threshold_drops_weaker_results(analyzer: Analyzer) -> None:
    text = "call (212) 555-0123 or 8.8.8.8"
    low = _spans(PresidioScanner(analyzer, score_threshold=0.3), text)
    assert low["pii.phone"] == ["(212) 555-0123"]  # Presidio scores it 0.4
    high = _spans(PresidioScanner(analyzer, score_threshold=0.5), text)
    assert "pii.phone" not in high
    assert high["pii.ip_address"] == ["8.8.8.8"]


def test_entities_narrow_what_is_asked_for(analyzer: Analyzer) -> None:
    only_email = PresidioScanner(analyzer, entities=["EMAIL_ADDRESS"])
    assert {f.type for f in only_email.scan(TEXT, Direction.INPUT)} == {"pii.email"}


def test_entity_types_map_to_proctor_types() -> None:
    assert finding_type("EMAIL_ADDRESS") == "pii.email"
    assert finding_type("PHONE_NUMBER") == "pii.phone"
    assert finding_type("CREDIT_CARD") == "pii.payment_card"
    assert finding_type("IBAN_CODE") == "pii.iban"
    assert finding_type("US_SSN") == "pii.ssn"
    assert finding_type("IP_ADDRESS") == "pii.ip_address"
    assert finding_type("PERSON") == "pii.person"
    assert finding_type("LOCATION") == "pii.location"
    assert finding_type("DATE_TIME") == "pii.date"
    assert finding_type("US_PASSPORT") == "pii.presidio.us_passport"


def test_recognizers_added_to_presidio_map_too() -> None:
    """PERSON and custom entities, produced by real Presidio recognizers (no NER needed)."""
    from presidio_analyzer import Pattern, PatternRecognizer

    engine: Any = build_analyzer("en", "blank")
    engine.registry.add_recognizer(
        PatternRecognizer(supported_entity="PERSON", deny_list=["Alice Example"])
    )
    engine.registry.add_recognizer(
        PatternRecognizer(
            supported_entity="EMPLOYEE_ID", patterns=[Pattern("employee", r"\bEMP-\d{6}\b", 0.7)]
        )
    )
    found = _spans(PresidioScanner(engine), "Alice Example, badge EMP-123456")
    assert found["pii.person"] == ["Alice Example"]
    assert found["pii.presidio.employee_id"] == ["EMP-123456"]


def test_runs_after_the_builtin_pii_scanner_and_only_for_pii(scanner: PresidioScanner) -> None:
    cascade = Cascade([scanner, PiiScanner()], timer=time.perf_counter, budget_ms=10_000)
    assert [s.name for s in cascade.stages] == ["pii", "presidio"]
    result = cascade.scan(TEXT, "input")
    assert {f.scanner for f in result.of_type("pii.email")} == {"pii", "presidio"}
    skipped = cascade.scan(TEXT, "input", types=["secret"])
    assert [s.status for s in skipped.stages] == ["skipped", "skipped"]


def test_offsets_stay_offsets_in_the_whole_text(scanner: PresidioScanner) -> None:
    text = "x" * 70_000 + " bob@corp.io"
    cascade = Cascade([scanner], timer=time.perf_counter, budget_ms=10_000)
    email = cascade.scan(text).of_type("pii.email")[0]
    assert text[email.start : email.end] == "bob@corp.io"


def test_the_email_recognizer_never_fetches_the_suffix_list(analyzer: Analyzer) -> None:
    import tldextract.tldextract

    assert not tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls


def test_a_missing_presidio_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)
    with pytest.raises(ScanError) as caught:
        PresidioScanner()
    assert caught.value.code == SCANNER_UNAVAILABLE
    assert "pip install 'proctor[presidio]'" in str(caught.value)
    assert "python -m spacy download en_core_web_sm" in str(caught.value)


def test_a_missing_model_says_how_to_download_it() -> None:
    with pytest.raises(ScanError) as caught:
        PresidioScanner(model="en_no_such_model")
    assert caught.value.code == SCANNER_UNAVAILABLE
    assert "python -m spacy download en_no_such_model" in str(caught.value)


def test_the_default_model_is_the_first_installed() -> None:
    assert spacy_model_for("en", None, lambda name: True) == "en_core_web_lg"
    assert spacy_model_for("en", None, lambda name: name == "en_core_web_sm") == "en_core_web_sm"
    with pytest.raises(ScanError) as caught:
        spacy_model_for("en", None, lambda name: False)
    assert caught.value.code == SCANNER_UNAVAILABLE
    assert INSTALL_HINT in str(caught.value)
    assert all(f"`{m}`" in str(caught.value) for m in DEFAULT_MODELS)
    with pytest.raises(ScanError) as other:
        spacy_model_for("de", None, lambda name: True)
    assert other.value.code == INVALID_SCANNER_OPTIONS


@pytest.mark.parametrize(
    "kwargs",
    [
        {"score_threshold": 1.5},
        {"score_threshold": True},
        {"language": ""},
        {"entities": "PERSON"},
        {"entities": ["PERSON", "NO_SUCH_ENTITY"]},
    ],
)
def test_bad_arguments_are_coded_errors(analyzer: Analyzer, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ScanError) as caught:
        PresidioScanner(analyzer, **kwargs)
    assert caught.value.code == INVALID_SCANNER_OPTIONS
