"""OpenTelemetry spans for decisions and W3C Trace Context propagation.

One span per check, ``proctor.check``, a child of the caller's span when a
``traceparent`` (W3C Trace Context, https://www.w3.org/TR/trace-context/ §3.2)
comes with the call. Besides proctor's own attributes it carries the
OpenTelemetry names an agent-observability backend groups by (``enduser.id``,
``gen_ai.agent.id``, ``gen_ai.tool.name``, ``error.type``), and the audit
record's ``trace_id`` is the span's, so a record joins its trace.

Without a ``telemetry:`` section (and without ``OTEL_EXPORTER_OTLP_ENDPOINT``)
no tracer exists and a check only parses the ``traceparent`` it is given, if
any, to fill the audit record's ``trace_id``.

The OpenTelemetry packages are imported only when a tracer is built, so the
rest of proctor (and a check without telemetry) never loads them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from proctor.model.decision import AUDIT_UNAVAILABLE, STATE_UNAVAILABLE, Decision

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

TRACEPARENT_HEADER = "traceparent"
SPAN_NAME = "proctor.check"
INSTRUMENTATION_NAME = "proctor"
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
_INFRASTRUCTURE_CODES = frozenset((AUDIT_UNAVAILABLE, STATE_UNAVAILABLE))
# OpenTelemetry semantic conventions: general (error.type, enduser.id) and GenAI
ERROR_TYPE = "error.type"
ENDUSER_ID = "enduser.id"
GEN_AI_AGENT_ID = "gen_ai.agent.id"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"

# §3.2: version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex.
# Version 00 has exactly these four fields; a later version may append more.
_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?$"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16

# The traceparent of the check running in this thread or task: read by outgoing
# calls made during the check (approval webhooks), so they carry it on.
_active: ContextVar[str | None] = ContextVar("proctor_traceparent", default=None)


class TelemetryConfig(BaseModel):
    """``telemetry:`` in ``proctor.yaml`` (docs/observability.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    otlp_endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    service_name: str = Field(default="proctor", min_length=1, max_length=200)
    use_global_provider: bool = False
    export_timeout: float = Field(default=10.0, gt=0, le=120)


class TraceParent(NamedTuple):
    """A parsed ``traceparent``; ``header`` is its version-00 form (what is passed on)."""

    trace_id: str
    span_id: str
    flags: int
    header: str

    @property
    def sampled(self) -> bool:
        return bool(self.flags & 1)


def parse_traceparent(value: str | None) -> TraceParent | None:
    """The header's fields, or None when it is absent or malformed (§3.2: ignore it)."""
    if not value or len(value) > 512:
        return None
    value = value.strip()
    found = _TRACEPARENT.match(value)
    if found is None:
        return None
    version, rest = found["version"], found["rest"]
    if version == "ff" or (version == "00" and rest is not None):
        return None
    trace_id, span_id, flags = found["trace"], found["span"], found["flags"]
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    header = value if rest is None and version == "00" else f"00-{trace_id}-{span_id}-{flags}"
    return TraceParent(trace_id, span_id, int(flags, 16), header)


def extract_traceparent(carrier: Mapping[str, Any] | None) -> str | None:
    """The valid ``traceparent`` in HTTP headers or an MCP ``_meta`` mapping, else None.

    Keys are matched without regard to case; a malformed value is dropped,
    as the W3C recommendation says, so the call starts a new trace.
    """
    if not carrier:
        return None
    value = carrier.get(TRACEPARENT_HEADER)
    if value is None:
        for key, item in carrier.items():
            if isinstance(key, str) and key.lower() == TRACEPARENT_HEADER:
                value = item
                break
    if not isinstance(value, str):
        return None
    parsed = parse_traceparent(value)
    return parsed.header if parsed is not None else None


def current_traceparent() -> str | None:
    """The ``traceparent`` of the check running in this thread or task, for outgoing calls."""
    return _active.get()


def inject_traceparent(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with the running check's ``traceparent`` added, when there is one."""
    value = _active.get()
    if value is not None:
        headers[TRACEPARENT_HEADER] = value
    return headers


class DecisionTrace:
    """One check's place in a trace: its span (when tracing) and the ids it hands on.

    ``trace_id`` is what the audit record keeps: the span's trace id whenever a
    span is recorded. ``caller_trace_id`` is a plain (non-W3C) id the caller
    passed, which the span's trace id then replaces in the record.
    """

    __slots__ = ("caller_trace_id", "span", "trace_id", "traceparent")

    def __init__(
        self,
        span: Span | None,
        trace_id: str | None,
        traceparent: str | None,
        caller_trace_id: str | None = None,
    ) -> None:
        self.span = span
        self.trace_id = trace_id
        self.traceparent = traceparent
        self.caller_trace_id = caller_trace_id
        _active.set(traceparent)

    def finish(
        self,
        decision: Decision,
        action: str,
        agent: str | None,
        user: str | None,
        tool: str | None = None,
    ) -> None:
        """Label and end the span; outgoing calls of this thread no longer carry it.

        A denial ends the span with status ``ERROR`` and ``error.type`` (the
        decision's code): the tool call the span stands for did not happen. A
        held call (``require_approval``) and an allowed one leave it unset, as
        instrumentation should.
        """
        _active.set(None)
        span = self.span
        if span is None:
            return
        attributes: dict[str, str | list[str]] = {
            "proctor.action": action,
            "proctor.effect": decision.effect.value,
            "proctor.decision_id": decision.decision_id,
            "proctor.rule_ids": list(decision.rule_ids),
            "proctor.code": decision.code,
        }
        if agent:
            attributes["proctor.agent"] = agent
            attributes[GEN_AI_AGENT_ID] = agent
            attributes[GEN_AI_AGENT_NAME] = agent  # an agent is registered by its id alone
        if tool:
            attributes[GEN_AI_TOOL_NAME] = tool
        if user is not None:
            attributes["proctor.user"] = user
            attributes[ENDUSER_ID] = user
        failed = decision.code in _INFRASTRUCTURE_CODES
        if failed or decision.effect.value == "deny":
            from opentelemetry.trace import Status, StatusCode

            error_type = decision.code or "deny"
            attributes[ERROR_TYPE] = error_type
            span.set_status(Status(StatusCode.ERROR, error_type))
        span.set_attributes(attributes)
        span.end()


def tool_name(context: Mapping[str, Any] | None) -> str | None:
    """The tool a check is about, when its context names one (the MCP proxy's ``tool``)."""
    tool = context.get("tool") if context else None
    name = tool.get("name") if isinstance(tool, Mapping) else None
    return name if isinstance(name, str) and name else None


@cache
def instrumentation_version() -> str:
    """proctor's version, for the tracer's instrumentation scope."""
    try:
        return version("proctor")
    except PackageNotFoundError:
        return "0"


class DecisionTracer:
    """Starts ``proctor.check`` spans on an OpenTelemetry tracer."""

    def __init__(self, tracer: Tracer, provider: TracerProvider | None = None) -> None:
        from opentelemetry import trace

        self._tracer = tracer
        self._provider = provider  # owned: flushed and shut down by ``close``
        self._trace = trace

    @classmethod
    def from_provider(cls, provider: Any, *, owned: bool = False) -> DecisionTracer:
        """A tracer from ``provider`` (an SDK ``TracerProvider``; tests pass one with an
        in-memory exporter); ``owned`` makes ``close`` shut the provider down."""
        tracer = provider.get_tracer(INSTRUMENTATION_NAME, instrumentation_version())
        return cls(tracer, provider if owned else None)

    def begin(self, parent: TraceParent | None, trace_id: str | None) -> DecisionTrace:
        """The span of one check, a child of ``parent`` or else of the ambient context."""
        trace = self._trace
        context = None
        if parent is not None:
            remote = trace.SpanContext(
                trace_id=int(parent.trace_id, 16),
                span_id=int(parent.span_id, 16),
                is_remote=True,
                trace_flags=trace.TraceFlags(parent.flags),
            )
            context = trace.set_span_in_context(trace.NonRecordingSpan(remote))
        span = self._tracer.start_span(SPAN_NAME, context=context)
        own = span.get_span_context()
        if not own.is_valid:  # a no-op tracer and no parent: nothing to hand on
            header = parent.header if parent is not None else None
            return DecisionTrace(span, trace_id or (parent.trace_id if parent else None), header)
        own_trace = format(own.trace_id, "032x")
        if trace_id is not None:  # kept beside the record's trace id, which is the span's
            span.set_attribute("proctor.caller_trace_id", trace_id)
        header = f"00-{own_trace}-{own.span_id:016x}-{int(own.trace_flags):02x}"
        return DecisionTrace(span, own_trace, header, caller_trace_id=trace_id)

    def force_flush(self, timeout_millis: int = 5000) -> None:
        if self._provider is not None:
            self._provider.force_flush(timeout_millis)

    def close(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()
            self._provider = None


def begin_trace(
    tracer: DecisionTracer | None, traceparent: str | None, trace_id: str | None
) -> DecisionTrace | None:
    """Where a check sits in a trace; None when it has no tracer and no (valid) parent.

    A ``trace_id`` written as a whole ``traceparent`` counts as one, so SDK
    sessions and the gateway's ``trace_id`` field can carry it unchanged. A
    plain ``trace_id`` (the caller's own correlation id) names the record's
    trace when no span is recorded; with a span it is kept as ``caller_trace_id``.
    """
    parent = parse_traceparent(traceparent) if traceparent is not None else None
    if parent is None and trace_id is not None and len(trace_id) >= 55 and trace_id[2] == "-":
        parent = parse_traceparent(trace_id)
        if parent is not None:
            trace_id = None
    if tracer is not None:
        return tracer.begin(parent, trace_id)
    if parent is None:
        return None
    return DecisionTrace(None, trace_id or parent.trace_id, parent.header)


def build_tracer(
    config: TelemetryConfig | None, environ: Mapping[str, str] | None = None
) -> DecisionTracer | None:
    """The tracer the config (or ``OTEL_EXPORTER_OTLP_*ENDPOINT``) asks for, else None."""
    environ = os.environ if environ is None else environ
    config = config or TelemetryConfig()
    if config.use_global_provider:
        from opentelemetry import trace

        return DecisionTracer(trace.get_tracer(INSTRUMENTATION_NAME, instrumentation_version()))
    endpoint = traces_endpoint(config, environ)
    if endpoint is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}))
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=config.export_timeout)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return DecisionTracer.from_provider(provider, owned=True)


def traces_endpoint(config: TelemetryConfig, environ: Mapping[str, str]) -> str | None:
    """The OTLP/HTTP URL spans are posted to: ``<base>/v1/traces`` for a base endpoint."""
    base = config.otlp_endpoint or environ.get(ENDPOINT_ENV)
    if config.otlp_endpoint is None and environ.get(TRACES_ENDPOINT_ENV):
        return environ[TRACES_ENDPOINT_ENV]
    if not base:
        return None
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else base + "/v1/traces"
