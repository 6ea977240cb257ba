"""Scanners built from configuration: ``presidio``, the injection ``judge`` (optional), and
the ``pii`` scanner's phone regions.

Each takes an options mapping (a section of ``scanning:`` in ``proctor.yaml``),
checked here with its keys and types; a bad section is a ``ScanError`` with
code ``invalid_scanner_options`` naming the option. These scanners are never
part of the default cascade.

A judge behind a ``url`` needs an HTTP client, which this pure package does not
hold: the caller passes the factory in (``http_judge``; the runtime and
``proctor.sdk.scanning`` pass ``proctor.judge_http.http_judge``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from proctor.scanners import Scanner
from proctor.scanners.errors import INVALID_SCANNER, INVALID_SCANNER_OPTIONS, ScanError
from proctor.scanners.judge import DEFAULT_MIN_CHARS, Judge, JudgeScanner
from proctor.scanners.judge import NAME as JUDGE_SCANNER_NAME
from proctor.scanners.phones import DEFAULT_REGIONS
from proctor.scanners.pii import PiiScanner
from proctor.scanners.presidio import PresidioScanner


class HttpJudgeFactory(Protocol):
    """Builds the judge that POSTs each text to ``url`` (``proctor.judge_http.http_judge``)."""

    def __call__(
        self, url: str, *, timeout_s: float = ..., headers: Mapping[str, str] | None = ...
    ) -> Judge: ...


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_OptionsT = TypeVar("_OptionsT", bound=_Options)


class PresidioOptions(_Options):
    """``scanning.presidio``: the analyzer's language, entity types, threshold and model."""

    language: str = Field("en", min_length=1)
    entities: list[str] | None = None
    threshold: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)
    model: str | None = Field(None, min_length=1)


class PiiOptions(_Options):
    """``scanning.pii``: the regions national-form phone numbers are read in, in order."""

    phone_regions: list[str] = Field(default_factory=lambda: list(DEFAULT_REGIONS), min_length=1)

    @model_validator(mode="after")
    def _known_regions(self) -> PiiOptions:
        unknown = [r for r in self.phone_regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(
                f"unknown phone region `{', '.join(unknown)}` (ISO 3166 codes: US, GB)"
            )
        return self


def build_pii_scanner(options: Mapping[str, Any] | None) -> Scanner:
    """The ``pii`` scanner with the options of ``scanning.pii``."""
    if options is not None and not isinstance(options, Mapping):
        raise ScanError(
            "the options of scanner `pii` must be a mapping", code=INVALID_SCANNER_OPTIONS
        )
    config = _validated(PiiOptions, "pii", options or {})
    return PiiScanner(phone_regions=config.phone_regions)


class JudgeOptions(_Options):
    """``scanning.judge``: an HTTP judge (``url``) or an importable one (``callable``)."""

    url: str | None = None
    callable: str | None = Field(None, pattern=r"^[\w.]+:[\w.]+$")
    timeout_s: float = Field(2.0, gt=0, le=60, allow_inf_nan=False)
    headers: dict[str, str] = Field(default_factory=dict)
    threshold: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)
    min_chars: int = Field(DEFAULT_MIN_CHARS, ge=1)

    @model_validator(mode="after")
    def _one_judge(self) -> JudgeOptions:
        if (self.url is None) == (self.callable is None):
            raise ValueError("set exactly one of `url` and `callable`")
        return self


def _presidio(options: Mapping[str, Any], http_judge: HttpJudgeFactory | None) -> Scanner:
    config = _validated(PresidioOptions, "presidio", options)
    return PresidioScanner(
        language=config.language,
        entities=config.entities,
        score_threshold=config.threshold,
        model=config.model,
    )


def _judge(options: Mapping[str, Any], http_judge: HttpJudgeFactory | None) -> Scanner:
    config = _validated(JudgeOptions, "judge", options)
    judge: Judge
    if config.url is not None:
        if http_judge is None:
            raise ScanError(
                "the judge `url` needs an HTTP client: build the cascade through "
                "`proctor.sdk.scanning` or pass `http_judge`",
                code=INVALID_SCANNER_OPTIONS,
                details={"scanner": "judge", "option": "url"},
            )
        judge = http_judge(config.url, timeout_s=config.timeout_s, headers=config.headers)
    else:
        judge = import_judge(config.callable or "")
    # The stage may take the judge's whole time limit, plus the request's own overhead.
    budget_ms = config.timeout_s * 1000 + 250
    return JudgeScanner(
        judge, threshold=config.threshold, budget_ms=budget_ms, min_chars=config.min_chars
    )


OPTIONAL_SCANNERS: dict[str, Callable[[Mapping[str, Any], HttpJudgeFactory | None], Scanner]] = {
    "presidio": _presidio,
    "judge": _judge,
}
# The judge's stage is reported as `injection_judge`; either name configures it.
ALIASES = {JUDGE_SCANNER_NAME: "judge"}


def build_optional_scanner(
    name: str,
    options: Mapping[str, Any] | None = None,
    *,
    http_judge: HttpJudgeFactory | None = None,
) -> Scanner:
    """The optional scanner ``name`` (``presidio`` or ``judge``) built from ``options``."""
    builder = OPTIONAL_SCANNERS.get(ALIASES.get(name, name))
    if builder is None:
        raise ScanError(
            f"no optional scanner `{name}`; expected one of `{'`, `'.join(OPTIONAL_SCANNERS)}`",
            code=INVALID_SCANNER,
        )
    if options is not None and not isinstance(options, Mapping):
        raise ScanError(
            f"the options of scanner `{name}` must be a mapping", code=INVALID_SCANNER_OPTIONS
        )
    return builder(options or {}, http_judge)


def import_judge(path: str) -> Judge:
    """The callable at ``package.module:function``."""
    module_name, _, attribute = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ScanError(
            f"the judge `callable` `{path}` could not be imported",
            code=INVALID_SCANNER_OPTIONS,
            details={"scanner": "judge", "option": "callable"},
        ) from exc
    if not callable(target):
        raise ScanError(
            f"the judge `callable` `{path}` is not callable",
            code=INVALID_SCANNER_OPTIONS,
            details={"scanner": "judge", "option": "callable"},
        )
    judge: Judge = target
    return judge


def _validated(model: type[_OptionsT], scanner: str, options: Mapping[str, Any]) -> _OptionsT:
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        problems = [_problem(scanner, error) for error in exc.errors(include_url=False)]
        raise ScanError(
            problems[0],
            code=INVALID_SCANNER_OPTIONS,
            details={"scanner": scanner, "problems": problems},
        ) from exc


def _problem(scanner: str, error: Any) -> str:
    where = ".".join(str(part) for part in (scanner, *error["loc"]))
    if error["type"] == "extra_forbidden":
        return f"`{where}`: unknown option"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"`{where}`: {message[:1].lower()}{message[1:]}"
