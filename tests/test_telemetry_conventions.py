"""The decision span by the OpenTelemetry semantic conventions (general and GenAI), through
the SDK's ``tracer_provider``, and the audit record (and its OCSF event) joining the span's
trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.enduser_attributes import ENDUSER_ID
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_ID,
    GEN_AI_AGENT_NAME,
    GEN_AI_TOOL_NAME,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode

from proctor.export.ocsf import to_ocsf
from proctor.model.request import Agent
from proctor.model.tiers import Tier
from proctor.sdk.client import Proctor
from proctor.telemetry import instrumentation_version
from tests.test_telemetry import CONFIG, POLICY, TRACE, TRACEPARENT

POLICIES = POLICY + '  - {id: no-delete, action: "delete:*", effect: deny}\n'
USERS = 'users: {alice: {scopes: ["*"]}}\n'
TOOL = {"tool": {"name": "refund_order", "server": "shop"}}  # as the MCP proxy passes it


@pytest.fixture
def exported() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exported: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider


@pytest.fixture
def guard(tmp_path: Path, provider: TracerProvider) -> Proctor:
    (tmp_path / "p.yaml").write_text(POLICIES)
    (tmp_path / "proctor.yaml").write_text(CONFIG + USERS)
    return Proctor.from_config(
        tmp_path / "proctor.yaml", agent="bot", audit=":memory:", tracer_provider=provider
    )


def only_span(exported: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exported.get_finished_spans()
    exported.clear()
    return span


def trace_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def test_an_allowed_tool_call(guard: Proctor, exported: InMemorySpanExporter) -> None:
    decision = guard.check("read:orders", user="alice", context=TOOL, traceparent=TRACEPARENT)
    span = only_span(exported)
    assert (span.name, span.kind) == ("proctor.check", SpanKind.INTERNAL)
    assert span.status.status_code is StatusCode.UNSET  # instrumentation leaves success unset
    assert span.instrumentation_scope is not None
    assert (span.instrumentation_scope.name, span.instrumentation_scope.version) == (
        "proctor",
        instrumentation_version(),
    )
    attributes = dict(span.attributes or {})
    assert attributes[GEN_AI_AGENT_ID] == attributes[GEN_AI_AGENT_NAME] == "bot"
    assert attributes[GEN_AI_TOOL_NAME] == "refund_order"
    assert attributes[ENDUSER_ID] == "alice"
    assert ERROR_TYPE not in attributes
    record = guard.runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["trace_id"] == trace_of(span) == TRACE
    guard.close()


def test_a_denial_is_an_error_of_the_call(guard: Proctor, exported: InMemorySpanExporter) -> None:
    denied = guard.check("delete:orders", user="alice")
    span = only_span(exported)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "rule"
    attributes = dict(span.attributes or {})
    assert (attributes[ERROR_TYPE], attributes["proctor.effect"]) == ("rule", "deny")
    assert GEN_AI_TOOL_NAME not in attributes  # no tool named: the action stands alone
    unknown = guard.check("read:orders", agent="ghost")  # denied before any rule: its own code
    attributes = dict(only_span(exported).attributes or {})
    assert attributes[ERROR_TYPE] == unknown.code == "unknown_agent"
    assert attributes[GEN_AI_AGENT_ID] == "ghost"
    record = guard.runtime.audit.get(denied.decision_id)
    assert record is not None
    assert record["trace_id"] == trace_of(span)
    guard.close()


def test_a_held_call_is_not_an_error(guard: Proctor, exported: InMemorySpanExporter) -> None:
    held = guard.check("write:refund", user="alice", context=TOOL, args={"amount": 5})
    assert held.effect.value == "require_approval"
    span = only_span(exported)
    assert span.status.status_code is StatusCode.UNSET
    assert ERROR_TYPE not in dict(span.attributes or {})
    guard.close()


def test_a_plain_correlation_id_joins_record_event_and_span(
    guard: Proctor, exported: InMemorySpanExporter
) -> None:
    """The record's trace id (and so the OCSF ``correlation_uid``) is the span's; the
    caller's own id stays in the record's ``extra`` and on the span."""
    with guard.session(user="alice", trace_id="job-42") as session:
        decision = session.check("read:orders")
    span = only_span(exported)
    record = guard.runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["trace_id"] == trace_of(span)
    assert record["extra"]["caller_trace_id"] == "job-42"
    assert dict(span.attributes or {})["proctor.caller_trace_id"] == "job-42"
    assert dict(span.attributes or {})["proctor.decision_id"] == decision.decision_id
    event = to_ocsf({"seq": 1, **record})
    assert event["metadata"]["correlation_uid"] == trace_of(span)
    assert event["metadata"]["uid"] == decision.decision_id
    assert event["unmapped"]["extra"]["caller_trace_id"] == "job-42"
    guard.close()


def test_from_policies_takes_a_tracer_provider(
    provider: TracerProvider, exported: InMemorySpanExporter
) -> None:
    guard = Proctor.from_policies(
        texts=(POLICIES,),
        agents=[Agent("bot", role="support", tier=Tier.VERIFIED)],
        roles={"support": ["*"]},
        tracer_provider=provider,
    )
    guard.check("read:orders")
    assert dict(only_span(exported).attributes or {})[GEN_AI_AGENT_ID] == "bot"
    guard.close()  # the provider is the caller's: closing proctor leaves it running
    assert provider.get_tracer("app").start_span("after").is_recording()
