"""A local OTLP/HTTP receiver: what the processes of a store under test export, kept in memory.

It answers ``POST /v1/traces`` (protobuf ``ExportTraceServiceRequest``) like a collector, on a
thread of its own so that it keeps receiving while a test blocks on the store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """One exported span, with the process (``service.name``) that made it."""

    process: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    start: int  # nanoseconds since the epoch
    end: int


class Receiver:
    """Collects spans until closed; ``url`` goes in ``OTEL_EXPORTER_OTLP_ENDPOINT``."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.add(body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            process = attributes.get("service.name", "?").removeprefix("gamestore-")
            for scope_spans in resource_spans.scope_spans:
                spans += [
                    ReceivedSpan(
                        process,
                        span.name,
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                        span.kind,
                        span.start_time_unix_nano,
                        span.end_time_unix_nano,
                    )
                    for span in scope_spans.spans
                ]
        with self._lock:
            self.spans += spans

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return [span for span in self.spans if span.trace_id == trace_id]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
