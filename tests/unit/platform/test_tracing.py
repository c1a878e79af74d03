"""Trace context carried with work: staged from the span in force, or from the span handling
the event that caused it; non-recording spans still carry real ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from gamestore.platform import tracing

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OTHER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "tracer", lambda: provider.get_tracer("test"))
    yield exporter
    provider.shutdown()


def test_outside_any_trace_nothing_is_staged() -> None:
    assert tracing.current_traceparent() is None
    assert tracing.trace_id() is None


def test_each_event_of_a_page_is_handled_in_a_child_of_its_own_sender(
    exported: InMemorySpanExporter,
) -> None:
    with tracing.consuming("games handles a page", [("e1", PARENT), ("e2", OTHER), ("e3", None)]):
        first = tracing.current_traceparent("e1")
        second = tracing.current_traceparent("e2")
        current = tracing.current_traceparent()
    spans = {span.context.trace_id: span for span in exported.get_finished_spans()}
    assert len(exported.get_finished_spans()) == 3
    parent, other = int(PARENT.split("-")[1], 16), int(OTHER.split("-")[1], 16)
    assert spans[parent].parent is not None and spans[parent].parent.span_id == 0x00F067AA0BA902B7
    assert spans[other].parent is not None and spans[other].parent.span_id == 0xB7AD6B7169203331
    assert first is not None and first.split("-")[1] == PARENT.split("-")[1]
    assert second is not None and second.split("-")[1] == OTHER.split("-")[1]
    assert current == first, "the block runs under the first event's span"
    assert all(span.kind == trace.SpanKind.CONSUMER for span in spans.values())


def test_a_failure_marks_every_span_of_the_delivery(exported: InMemorySpanExporter) -> None:
    with pytest.raises(RuntimeError), tracing.consuming("x", [("e1", PARENT), ("e2", None)]):
        raise RuntimeError("poison")
    assert all(not s.status.is_ok for s in exported.get_finished_spans())


def test_without_an_exporter_spans_are_not_recorded_but_have_real_ids() -> None:
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    with provider.get_tracer("test").start_as_current_span("request") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid
        assert tracing.trace_id() == format(span.get_span_context().trace_id, "032x")
        staged = tracing.current_traceparent()
    assert staged is not None, "passed on"
    assert int(staged.rsplit("-", 1)[1], 16) & 1 == 0, "marked not sampled"


def test_the_exporter_is_chosen_by_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert not tracing.exporting()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces")
    assert tracing.exporting()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.disabled()
    app = object()
    assert tracing.traced(app) is app  # type: ignore[arg-type]
