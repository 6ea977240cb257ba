"""Microsoft Presidio as a scanner: its analyzer's results as proctor findings.

Optional (``pip install 'proctor[presidio]'``): Presidio is imported when a
scanner is built, never when this module is imported, so the core runs without
it, and the scanner is left out of the default cascade (``optional = True``).
Presidio adds named-entity recognition (people, places) to the validated
patterns of the built-in ``pii`` scanner when a spaCy model is installed.

Presidio stays offline: the spaCy model is loaded here (Presidio would download
a missing one), and the public suffix list its e-mail recognizer needs comes
from tldextract's bundled snapshot unless ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS``
is set before Presidio is first imported.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from proctor.scanners.errors import INVALID_SCANNER_OPTIONS, SCANNER_UNAVAILABLE, ScanError
from proctor.scanners.findings import Direction, Finding

NAME = "presidio"
# A spaCy pipeline that only tokenizes: Presidio's pattern recognizers, no NER model.
BLANK_MODEL = "blank"
# Tried in order when no model is configured (English).
DEFAULT_MODELS = ("en_core_web_lg", "en_core_web_sm")
INSTALL_HINT = "pip install 'proctor[presidio]' and python -m spacy download en_core_web_sm"

ENTITY_TYPES = {
    "EMAIL_ADDRESS": "pii.email",
    "PHONE_NUMBER": "pii.phone",
    "CREDIT_CARD": "pii.payment_card",
    "IBAN_CODE": "pii.iban",
    "US_SSN": "pii.ssn",
    "IP_ADDRESS": "pii.ip_address",
    "PERSON": "pii.person",
    "LOCATION": "pii.location",
    "DATE_TIME": "pii.date",
}


class AnalyzerResult(Protocol):
    """The part of Presidio's ``RecognizerResult`` read here."""

    @property
    def entity_type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...


class Analyzer(Protocol):
    """The part of Presidio's ``AnalyzerEngine`` used here."""

    def analyze(
        self,
        text: str,
        language: str,
        *,
        entities: list[str] | None = None,
        score_threshold: float | None = None,
    ) -> Sequence[AnalyzerResult]: ...


def finding_type(entity_type: str) -> str:
    """proctor's type for a Presidio entity: ``EMAIL_ADDRESS`` -> ``pii.email``."""
    return ENTITY_TYPES.get(entity_type, f"pii.presidio.{entity_type.lower()}")


class PresidioScanner:
    """Findings from a Presidio analyzer, typed like the built-in ``pii`` scanner's.

    ``analyzer`` is any object with Presidio's ``analyze``; when absent, a
    spaCy-backed ``AnalyzerEngine`` is built for ``language`` with ``model``
    (``blank`` for Presidio's pattern recognizers without NER). ``entities``
    narrows the Presidio entity types asked for; results under
    ``score_threshold`` are dropped.
    """

    name = NAME
    cost = 50  # after pii, secrets and injection: NER costs milliseconds per text
    types = frozenset({"pii"})
    optional: ClassVar[bool] = True
    # Presidio's phone recognizer alone tries several regions: tens of ms on 2 KB.
    budget_ms: ClassVar[float] = 250.0

    def __init__(
        self,
        analyzer: Analyzer | None = None,
        *,
        language: str = "en",
        entities: Collection[str] | None = None,
        score_threshold: float = 0.5,
        model: str | None = None,
    ) -> None:
        if not isinstance(language, str) or not language.strip():
            raise ScanError(
                "presidio `language` must be a language code such as `en`",
                code=INVALID_SCANNER_OPTIONS,
            )
        if (
            isinstance(score_threshold, bool)
            or not isinstance(score_threshold, int | float)
            or not (math.isfinite(score_threshold) and 0 <= score_threshold <= 1)
        ):
            raise ScanError(
                f"presidio `score_threshold` must be a number from 0 to 1, not `{score_threshold}`",
                code=INVALID_SCANNER_OPTIONS,
            )
        self._entities = _entity_names(entities)
        self._language = language
        self._threshold = float(score_threshold)
        self._analyzer = analyzer if analyzer is not None else build_analyzer(language, model)
        self._check_entities()

    def _check_entities(self) -> None:
        """Unknown entity names fail here, not in every scan (Presidio raises on them)."""
        supported = getattr(self._analyzer, "get_supported_entities", None)
        if self._entities is None or not callable(supported):
            return
        unknown = sorted(set(self._entities) - set(supported(self._language)))
        if unknown:
            raise ScanError(
                f"presidio has no recognizer for `{'`, `'.join(unknown)}` in `{self._language}`",
                code=INVALID_SCANNER_OPTIONS,
                details={"supported": sorted(supported(self._language))},
            )

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        if not text.strip():
            return ()
        results = self._analyzer.analyze(
            text=text,
            language=self._language,
            entities=self._entities,
            score_threshold=self._threshold,
        )
        return tuple(
            Finding(
                finding_type(r.entity_type),
                r.start,
                r.end,
                min(1.0, float(r.score)),
                self.name,
                f"presidio {r.entity_type}",
            )
            for r in results
            if r.score >= self._threshold and 0 <= r.start < r.end <= len(text)
        )


def _entity_names(entities: Collection[str] | None) -> list[str] | None:
    if entities is None:
        return None
    if isinstance(entities, str) or not all(isinstance(e, str) and e for e in entities):
        raise ScanError(
            "presidio `entities` must be a list of Presidio entity names such as `PERSON`",
            code=INVALID_SCANNER_OPTIONS,
        )
    return sorted(set(entities))


def build_analyzer(language: str = "en", model: str | None = None) -> Analyzer:
    """A Presidio ``AnalyzerEngine`` over an installed spaCy model, never downloading one."""
    # The e-mail recognizer's suffix list: the bundled snapshot, not a fetch at scan time.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError as exc:
        raise ScanError(
            "the presidio scanner needs presidio-analyzer, which is not installed",
            code=SCANNER_UNAVAILABLE,
            hint=INSTALL_HINT,
        ) from exc
    name = spacy_model_for(language, model, spacy.util.is_package)
    try:
        pipeline = spacy.blank(language) if name == BLANK_MODEL else spacy.load(name)
    except (ImportError, OSError, ValueError) as exc:
        raise ScanError(
            f"spaCy could not load `{name}` for language `{language}`",
            code=SCANNER_UNAVAILABLE,
            hint=f"python -m spacy download {name}" if name != BLANK_MODEL else None,
        ) from exc
    engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": name}])
    # Loaded above: Presidio's own load() downloads a missing model.
    engine.nlp = {language: pipeline}  # type: ignore[assignment]
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=[language])
    # The first e-mail match builds the public suffix trie (about a second): do it now,
    # not inside the first scan's time budget.
    analyzer.analyze(text="warm-up mail@example.org", language=language)
    return analyzer


def spacy_model_for(language: str, model: str | None, installed: Callable[[str], bool]) -> str:
    """The spaCy model to load: ``model`` if installed, else the first installed default."""
    if model == BLANK_MODEL:
        return model
    if model is not None:
        if installed(model) or Path(model).exists():
            return model
        raise ScanError(
            f"spaCy model `{model}` is not installed",
            code=SCANNER_UNAVAILABLE,
            hint=f"python -m spacy download {model}, or set the presidio model to `blank`",
        )
    if language != "en":
        raise ScanError(
            f"set the presidio `model` for language `{language}` (a spaCy model name, or `blank`)",
            code=INVALID_SCANNER_OPTIONS,
        )
    for candidate in DEFAULT_MODELS:
        if installed(candidate):
            return candidate
    raise ScanError(
        f"no spaCy model for the presidio scanner; tried `{'`, `'.join(DEFAULT_MODELS)}`",
        code=SCANNER_UNAVAILABLE,
        hint=INSTALL_HINT + " (or set the presidio model to `blank`)",
    )
