"""Traces across processes (OpenTelemetry), one purchase = one trace (docs/adr/012).

W3C ``traceparent`` travels with the work: HTTP headers (the ASGI and aiohttp
instrumentations), each event in the event store (staged with the outbox row that carries it),
AMQP headers, payment-queue messages, and the PSP's webhooks. A consumer handles each event in
a span whose *parent* is the span that staged it, so the whole saga hangs off the browser's
request.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``…_TRACES_ENDPOINT``) set, spans are sampled as the
standard ``OTEL_TRACES_SAMPLER`` says and exported over OTLP/HTTP in batches. Without it, spans
are not recorded — but they still get real ids, so the trace id is in every log line and is
passed on, at the cost of creating an id. ``OTEL_SDK_DISABLED=true`` turns tracing off
entirely (no ids, no middleware).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

TRACEPARENT = "traceparent"
_TRACER = "gamestore"
_provider: Any = None
# while a consumer handles events: each event id → the context of the span handling it, so
# what it stages continues that event's trace even when a page of several is handled at once
_handling: contextvars.ContextVar[Mapping[str, context.Context] | None] = contextvars.ContextVar(
    "handling", default=None
)


def disabled() -> bool:
    """``OTEL_SDK_DISABLED=true``: no tracing at all."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def exporting() -> bool:
    """Whether spans go anywhere (an OTLP endpoint is configured)."""
    keys = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return any(os.environ.get(key) for key in keys)


def configure(process: str) -> None:
    """Set this process's tracer provider (once, at start) and instrument its HTTP clients."""
    global _provider
    if disabled() or _provider is not None:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    name = os.environ.get("OTEL_SERVICE_NAME") or f"gamestore-{process}"
    resource = Resource.create({"service.name": name})
    if exporting():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        _provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        _provider = TracerProvider(resource=resource, sampler=ParentBased(ALWAYS_OFF))
    trace.set_tracer_provider(_provider)
    if exporting():  # a CLIENT span per call; without an exporter the callers inject the ids
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

        AioHttpClientInstrumentor().instrument()


def shutdown() -> None:
    """Export what is still buffered (a process's last spans), then stop."""
    if _provider is not None:
        _provider.shutdown()


def traced(app: ASGIApp) -> ASGIApp:
    """``app`` with each request in the caller's trace: behind OpenTelemetry's ASGI middleware
    (a SERVER span per request) when spans are exported; else behind :class:`Propagation`,
    which only carries the ids (the instrumentation costs a third of a cheap request's time
    even when nothing is recorded: ``bench/gateway.py --telemetry``); ``app`` itself when
    tracing is disabled."""
    if disabled():
        return app
    if not exporting():
        return Propagation(app)
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    middleware: ASGIApp = OpenTelemetryMiddleware(app, exclude_spans=["receive", "send"])
    return middleware


class Propagation:
    """Each request in a span of its own that records nothing: the caller's ``traceparent``
    continued (or a new trace started), so logs carry the trace id and outgoing work passes
    it on, at the cost of one id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._ids = RandomIdGenerator()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        parent = trace.get_current_span(_extract(scope)).get_span_context()
        trace_id = parent.trace_id if parent.is_valid else self._ids.generate_trace_id()
        span = trace.NonRecordingSpan(
            trace.SpanContext(trace_id, self._ids.generate_span_id(), is_remote=False)
        )
        token = context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


def _extract(scope: Scope) -> context.Context | None:
    for name, value in scope["headers"]:
        if name == b"traceparent":
            return context_of(value.decode("latin-1"))
    return None


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry instrumentation, for a service's app: its server spans when
    spans are exported (route-named, the caller's ``traceparent`` continued), nothing else —
    metrics are Prometheus', logs are the TXT files. Without an exporter the app gets
    :class:`Propagation` instead (:func:`propagation_only`)."""
    return TelemetryConfig(
        tracing=exporting() and not disabled(), metrics=False, logs=False, operation_spans=False
    )


def propagation_only() -> bool:
    """Whether requests carry ids without spans (tracing on, nothing exported)."""
    return not disabled() and not exporting()


def name_span(method: str, route: str) -> None:
    """Name the current server span by its route template (``GET /jogos/{game_id}``), known
    only once the request was routed."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)


def tracer() -> trace.Tracer:
    return trace.get_tracer(_TRACER)


def trace_id() -> str | None:
    """The current trace id (32 hex digits), or None outside any trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def current_traceparent(cause: str | None = None) -> str | None:
    """The ``traceparent`` to stage with new work: of the span handling event ``cause`` when
    there is one, else of the current span; None outside any trace."""
    handling = _handling.get()
    ctx = handling.get(cause) if cause and handling else None
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=ctx)
    return carrier.get(TRACEPARENT)


def context_of(traceparent: str | None) -> context.Context | None:
    """The context a ``traceparent`` names (None for none)."""
    if not traceparent:
        return None
    return propagate.extract({TRACEPARENT: traceparent})


def headers(traceparent: str | None) -> dict[str, str]:
    """The header to send with work that continues ``traceparent``."""
    return {TRACEPARENT: traceparent} if traceparent else {}


@contextlib.contextmanager
def consuming(
    name: str, items: Sequence[tuple[str, str | None]], **attributes: str
) -> Iterator[None]:
    """Handle ``items`` (each an id and the ``traceparent`` it came with): one CONSUMER span
    per item, child of the span that sent it. The block runs under the first one's; what it
    stages for an item (``current_traceparent(cause=item id)``) continues that item's trace."""
    spans = {
        item_id: tracer().start_span(
            name, context=context_of(traceparent), kind=SpanKind.CONSUMER, attributes=attributes
        )
        for item_id, traceparent in items
    }
    contexts = {item_id: trace.set_span_in_context(span) for item_id, span in spans.items()}
    token = _handling.set(contexts)
    attached = context.attach(next(iter(contexts.values()))) if contexts else None
    try:
        yield
    except Exception as error:
        for span in spans.values():
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        if attached is not None:
            context.detach(attached)
        _handling.reset(token)
        for span in spans.values():
            span.end()
