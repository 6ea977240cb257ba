"""Decision spans and W3C Trace Context: in memory, through a real OTLP/HTTP collector,
through the gateway's ``traceparent`` header and out on approval webhooks."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from proctor.config import load_config
from proctor.errors import ErrorGroup
from proctor.runtime import Runtime, build_runtime
from proctor.telemetry import (
    DecisionTracer,
    TelemetryConfig,
    build_tracer,
    extract_traceparent,
    parse_traceparent,
    traces_endpoint,
)
from tests.server.conftest import TestClient, bearer
from tests.server.gateway import PEP_KEY, write_config

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{PARENT}-01"
POLICY = """\
name: p
rules:
  - {id: reads, action: "read:*", effect: allow}
  - {id: refunds, action: "write:refund", effect: require_approval}
"""
CONFIG = """\
policies: [p.yaml]
roles: {support: {scopes: ["*"]}}
agents: [{id: bot, role: support, tier: verified}]
"""


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "p.yaml").write_text(POLICY)
    path = tmp_path / "proctor.yaml"
    path.write_text(CONFIG)
    return path


def traced_runtime(config: Path, spans: InMemorySpanExporter) -> Runtime:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = DecisionTracer.from_provider(provider, owned=True)
    return build_runtime(config, audit=":memory:", wait_for_audit=True, tracer=tracer)


# -- traceparent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "00-" + "0" * 32 + f"-{PARENT}-01",  # all-zero trace id
        f"00-{TRACE}-" + "0" * 16 + "-01",  # all-zero parent id
        f"ff-{TRACE}-{PARENT}-01",  # version ff is invalid
        f"00-{TRACE.upper()}-{PARENT}-01",  # upper case hex
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE[:-1]}-{PARENT}-01",
    ],
)
def test_malformed_traceparents_are_ignored(value: str) -> None:
    assert parse_traceparent(value) is None
    assert extract_traceparent({"traceparent": value}) is None


def test_traceparent_is_read_from_any_carrier_case() -> None:
    parsed = parse_traceparent(TRACEPARENT)
    assert parsed is not None
    assert (parsed.trace_id, parsed.span_id, parsed.sampled) == (
        TRACE,
        PARENT,
        True,
    )
    assert parse_traceparent(f"01-{TRACE}-{PARENT}-00-future") is not None  # later versions
    assert extract_traceparent({"Traceparent": TRACEPARENT}) == TRACEPARENT
    assert extract_traceparent({"traceparent": 7}) is None
    assert extract_traceparent(None) is None


# -- spans in memory -----------------------------------------------------------------------


def test_a_check_makes_one_span_child_of_the_callers(
    config: Path, spans: InMemorySpanExporter
) -> None:
    runtime = traced_runtime(config, spans)
    decision = runtime.check(
        "read:orders", agent="bot", user={"sub": "alice", "scopes": ["*"]}, traceparent=TRACEPARENT
    )
    (span,) = spans.get_finished_spans()
    assert span.name == "proctor.check"
    assert span.context is not None
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == TRACE
    assert format(span.parent.span_id, "016x") == PARENT
    assert dict(span.attributes or {}) == {
        "proctor.action": "read:orders",
        "proctor.effect": "allow",
        "proctor.decision_id": decision.decision_id,
        "proctor.rule_ids": ("reads",),
        "proctor.code": "rule",
        "proctor.agent": "bot",
        "proctor.user": "alice",
        "enduser.id": "alice",
        "gen_ai.agent.id": "bot",
        "gen_ai.agent.name": "bot",
    }
    record = runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["trace_id"] == TRACE
    runtime.close()


def test_without_a_parent_the_span_starts_a_trace_the_record_names(
    config: Path, spans: InMemorySpanExporter
) -> None:
    runtime = traced_runtime(config, spans)
    decision = runtime.check("delete:x", agent="bot")
    (span,) = spans.get_finished_spans()
    assert span.parent is None
    assert span.context is not None
    assert dict(span.attributes or {})["proctor.effect"] == "deny"
    record = runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["trace_id"] == format(span.context.trace_id, "032x")
    runtime.close()


def test_a_traceparent_in_trace_id_counts_and_a_plain_trace_id_is_kept(
    config: Path, spans: InMemorySpanExporter
) -> None:
    """A plain id is kept beside the span's trace id, which the record names (the join)."""
    runtime = traced_runtime(config, spans)
    by_field = runtime.check("read:a", agent="bot", trace_id=TRACEPARENT)  # SDK sessions, HTTP
    plain = runtime.check("read:a", agent="bot", trace_id="job-42")
    first, second = spans.get_finished_spans()
    assert first.context is not None
    assert second.context is not None
    assert format(first.context.trace_id, "032x") == TRACE
    assert dict(second.attributes or {})["proctor.caller_trace_id"] == "job-42"
    assert runtime.audit.get(by_field.decision_id)["trace_id"] == TRACE  # type: ignore[index]
    record = runtime.audit.get(plain.decision_id)
    assert record is not None
    assert record["trace_id"] == format(second.context.trace_id, "032x")
    assert record["extra"]["caller_trace_id"] == "job-42"
    runtime.close()


def test_without_a_tracer_a_plain_trace_id_names_the_record(config: Path) -> None:
    runtime = build_runtime(config, audit=":memory:", wait_for_audit=True)
    decision = runtime.check("read:a", agent="bot", trace_id="job-42")
    record = runtime.audit.get(decision.decision_id)
    assert record is not None
    assert record["trace_id"] == "job-42"
    assert set(record["extra"]) == {"policy_digest"}  # no span ids without a tracer
    runtime.close()


def test_without_a_tracer_the_traceparent_still_names_the_records_trace(config: Path) -> None:
    runtime = build_runtime(config, audit=":memory:", wait_for_audit=True)
    assert runtime.tracer is None
    decision = runtime.check("read:a", agent="bot", traceparent=TRACEPARENT)
    bad = runtime.check("read:a", agent="bot", traceparent="00-nonsense")
    assert runtime.audit.get(decision.decision_id)["trace_id"] == TRACE  # type: ignore[index]
    assert runtime.audit.get(bad.decision_id)["trace_id"] is None  # type: ignore[index]
    runtime.close()


# -- configuration -------------------------------------------------------------------------


def test_endpoint_from_config_or_environment() -> None:
    assert build_tracer(None, {}) is None
    config = TelemetryConfig(otlp_endpoint="http://127.0.0.1:4318/")
    assert traces_endpoint(config, {}) == "http://127.0.0.1:4318/v1/traces"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert traces_endpoint(TelemetryConfig(), env) == "http://collector:4318/v1/traces"
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://other:4318/custom"
    assert traces_endpoint(TelemetryConfig(), env) == "http://other:4318/custom"
    assert traces_endpoint(config, env) == "http://127.0.0.1:4318/v1/traces"  # the file wins


def test_a_bad_telemetry_section_is_located(tmp_path: Path) -> None:
    path = tmp_path / "proctor.yaml"
    path.write_text("telemetry:\n  otlp_endpoint: ftp://x\n  servce_name: p\n")
    with pytest.raises(ErrorGroup) as caught:
        load_config(path)
    errors = {error.code: error for error in caught.value.errors}
    assert errors["config_invalid_value"].location is not None
    assert errors["config_invalid_value"].location.line == 2
    assert "otlp_endpoint" in errors["config_invalid_value"].message
    assert errors["config_unknown_key"].hint == "did you mean `service_name`?"


# -- a real OTLP/HTTP collector on loopback ---------------------------------------------------


@pytest.fixture
def collector() -> Iterator[tuple[str, queue.Queue[ExportTraceServiceRequest]]]:
    received: queue.Queue[ExportTraceServiceRequest] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received.put(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_spans_reach_an_otlp_collector(
    config: Path, collector: tuple[str, queue.Queue[ExportTraceServiceRequest]]
) -> None:
    url, received = collector
    config.write_text(
        CONFIG + f"telemetry: {{otlp_endpoint: '{url}', service_name: proctor-test}}\n"
    )
    runtime = build_runtime(config, audit=":memory:")
    assert runtime.tracer is not None
    decision = runtime.check(
        "read:orders", agent="bot", user={"sub": "alice", "scopes": ["*"]}, traceparent=TRACEPARENT
    )
    runtime.close()  # flushes the batch to the collector
    request = received.get(timeout=10)
    (resource_spans,) = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "proctor-test"
    (span,) = resource_spans.scope_spans[0].spans
    assert span.name == "proctor.check"
    assert span.trace_id.hex() == TRACE
    assert span.parent_span_id.hex() == PARENT
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["proctor.decision_id"].string_value == decision.decision_id
    assert attributes["proctor.user"].string_value == "alice"
    assert attributes["proctor.agent"].string_value == "bot"
    assert attributes["proctor.effect"].string_value == "allow"
    assert [v.string_value for v in attributes["proctor.rule_ids"].array_value.values] == ["reads"]


# -- the gateway's header and the approval webhook ---------------------------------------------


def test_the_gateway_reads_the_traceparent_header(tmp_path: Path) -> None:
    from proctor.server import create_app

    loaded = load_config(write_config(tmp_path))
    runtime = build_runtime(loaded, wait_for_audit=True)
    app = create_app(runtime, config=loaded)
    with TestClient(app) as client:
        headers = {**bearer(PEP_KEY), "traceparent": TRACEPARENT}
        body = {"action": "read:a", "agent": "support-bot"}
        decision_id = client.post("/v1/check", json=body, headers=headers).json()["decision_id"]
        batch = client.post("/v1/check/batch", json={"checks": [body]}, headers=headers).json()
        runtime.audit.flush()
        for key in (decision_id, batch["decisions"][0]["decision_id"]):
            assert runtime.audit.get(key)["trace_id"] == TRACE  # type: ignore[index]


def test_approval_webhooks_carry_the_checks_traceparent(
    config: Path,
    spans: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: queue.Queue[dict[str, str]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.put(dict(self.headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    config.write_text(CONFIG + f"approvals: {{webhook: {{url: '{url}', secret_env: HOOK_KEY}}}}\n")
    monkeypatch.setenv("HOOK_KEY", "s3cret")
    runtime = traced_runtime(config, spans)
    try:
        runtime.check("write:refund", agent="bot", args={"amount": 5}, traceparent=TRACEPARENT)
        headers = received.get(timeout=10)
    finally:
        runtime.close()
        server.shutdown()
    (span,) = spans.get_finished_spans()
    assert span.context is not None
    assert extract_traceparent(headers) == f"00-{TRACE}-{span.context.span_id:016x}-01"


def test_a_gateway_check_with_a_traceparent_reaches_the_collector(
    tmp_path: Path, collector: tuple[str, queue.Queue[ExportTraceServiceRequest]]
) -> None:
    from proctor.server import create_app

    url, received = collector
    loaded = load_config(write_config(tmp_path, extra=f"telemetry: {{otlp_endpoint: '{url}'}}\n"))
    app = create_app(build_runtime(loaded), config=loaded)
    with TestClient(app) as client:
        answer = client.post(
            "/v1/check",
            json={"action": "delete:x", "agent": "support-bot"},
            headers={**bearer(PEP_KEY), "traceparent": TRACEPARENT},
        ).json()
    # the app's shutdown closed the runtime, which flushed the span
    span = received.get(timeout=10).resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == TRACE
    assert span.parent_span_id.hex() == PARENT
    attributes = {a.key: a.value.string_value for a in span.attributes}
    assert attributes["proctor.decision_id"] == answer["decision_id"]
    assert attributes["proctor.effect"] == "deny"


def test_the_sdk_passes_a_traceparent_by_argument_or_session(
    config: Path, spans: InMemorySpanExporter
) -> None:
    from proctor.sdk.client import Proctor

    guard = Proctor(traced_runtime(config, spans), agent="bot")
    guard.check("read:a", traceparent=TRACEPARENT)
    with guard.session(trace_id=TRACEPARENT) as session:
        session.check("read:b")
    for span in spans.get_finished_spans():
        assert span.parent is not None
        assert format(span.parent.span_id, "016x") == PARENT
    assert len(spans.get_finished_spans()) == 2
    guard.close()
