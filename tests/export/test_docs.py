"""docs/observability.md names every telemetry setting, metric, span attribute and export code."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.config import ExportConfig
from proctor.export import errors
from proctor.runtime.pipeline import STAGE_NAMES as STAGES
from proctor.server.metrics import GatewayMetrics
from proctor.telemetry import TelemetryConfig

DOC = (Path(__file__).parents[2] / "docs" / "observability.md").read_text()
CODES = [value for name, value in vars(errors).items() if name.startswith("EXPORT_")]
ATTRIBUTES = [
    "proctor.action",
    "proctor.effect",
    "proctor.decision_id",
    "proctor.rule_ids",
    "proctor.code",
    "proctor.agent",
    "proctor.user",
    "enduser.id",
    "gen_ai.agent.id",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "error.type",
    "proctor.caller_trace_id",
]


@pytest.mark.parametrize(
    "name", sorted({*TelemetryConfig.model_fields, *ExportConfig.model_fields})
)
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}:`" in DOC


@pytest.mark.parametrize("name", [*CODES, *ATTRIBUTES, *STAGES])
def test_every_code_attribute_and_stage_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


def test_every_metric_is_documented() -> None:
    metrics = GatewayMetrics(lambda: 0.0)
    names = {family.name for family in metrics.registry.collect()}
    for name in names:
        documented = f"`{name}`" in DOC or f"`{name}_total`" in DOC
        assert documented, name
