"""How queue messages travel on RabbitMQ: JSON bodies, attempts and errors in headers."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from aiormq import spec

from gamestore.platform.clock import utcnow
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.queue.model import Message

ATTEMPTS = "x-attempts"  # failed deliveries before this publish (retries carry it forward)
LAST_ERROR = "x-last-error"
ENQUEUED_AT = "x-enqueued-at"  # epoch seconds; AMQP's timestamp property has whole seconds only
TRACEPARENT = "traceparent"  # W3C: the span that queued it
QUEUE = "x-queue"
PERSISTENT = 2  # delivery mode: written to disk
DEAD_LETTERED_AT = "x-dead-lettered-at"


@dataclass(frozen=True, slots=True)
class Topology:
    """The names around one work queue: the queue, its delay queue, its dead letters."""

    queue: str

    @property
    def retry(self) -> str:
        return f"{self.queue}.retry"

    @property
    def dlq(self) -> str:
        return f"{self.queue}.dlq"

    @property
    def dlx(self) -> str:
        return f"{self.queue}.dlx"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def stamp(epoch: float | None = None) -> str:
    """A time for a header: text, since pamqp sends a Python float as a 32-bit float."""
    return f"{time.time() if epoch is None else epoch:.6f}"


def _headers(incoming: AbstractIncomingMessage) -> Mapping[str, Any]:
    return incoming.headers or {}


def last_error(incoming: AbstractIncomingMessage) -> str | None:
    return _text(_headers(incoming).get(LAST_ERROR))


def attempts_of(incoming: AbstractIncomingMessage) -> int:
    """Deliveries so far, this one included: earlier failures + broker redeliveries + 1."""
    headers = _headers(incoming)
    redeliveries = int(headers.get("x-delivery-count") or 0)  # set by quorum queues
    if not redeliveries and incoming.redelivered:
        redeliveries = 1
    return int(headers.get(ATTEMPTS) or 0) + redeliveries + 1


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready for ``basic.publish`` (built without aio-pika's Message: it is hot)."""

    body: bytes
    properties: spec.Basic.Properties


def _properties(
    message_id: str | None,
    correlation_id: str | None,
    headers: dict[str, Any],
    expiration: float | None,
    content_type: str | None = "application/json",
) -> spec.Basic.Properties:
    return spec.Basic.Properties(
        message_id=message_id,
        correlation_id=correlation_id,
        content_type=content_type,
        delivery_mode=PERSISTENT,
        headers=headers,
        expiration=None if expiration is None else str(max(1, round(expiration * 1000))),
    )


def encode(
    body: Mapping[str, Any],
    message_id: str,
    correlation_id: str | None,
    headers: Mapping[str, Any],
) -> Outgoing:
    data = json.dumps(dict(body), separators=(",", ":")).encode()
    return Outgoing(data, _properties(message_id, correlation_id, dict(headers), None))


def enqueued_at(incoming: AbstractIncomingMessage) -> float:
    value = _headers(incoming).get(ENQUEUED_AT)
    return float(_text(value) or time.time())


def decode(incoming: AbstractIncomingMessage, queue: str) -> Message:
    """The port's Message; raises ValueError for a body that is not a JSON object."""
    body = json.loads(incoming.body)
    if not isinstance(body, dict):
        raise ValueError("message body is not a JSON object")
    return Message(
        id=incoming.message_id or "",
        queue=queue,
        body=body,
        attempts=attempts_of(incoming),
        correlation_id=incoming.correlation_id,
        enqueued_at=datetime.fromtimestamp(enqueued_at(incoming), UTC),
        traceparent=_text(_headers(incoming).get(TRACEPARENT)),
    )


def forward(
    incoming: AbstractIncomingMessage,
    extra: Mapping[str, Any],
    expiration: float | None = None,
) -> Outgoing:
    """A copy of a delivery for the delay queue or the DLQ, with updated headers."""
    headers = {ENQUEUED_AT: stamp(enqueued_at(incoming)), **extra}
    if traceparent := _text(_headers(incoming).get(TRACEPARENT)):
        headers[TRACEPARENT] = traceparent  # the retry continues the trace it came with
    properties = _properties(
        incoming.message_id, incoming.correlation_id, headers, expiration, incoming.content_type
    )
    return Outgoing(incoming.body, properties)


def _broker_reason(headers: Mapping[str, Any]) -> tuple[str, datetime | None]:
    deaths = headers.get("x-death") or []
    if not deaths:
        return "dead-lettered by the broker", None
    first = deaths[0]
    reason = _text(first.get("reason")) or "unknown"
    when = first.get("time")
    return f"dead-lettered by the broker ({reason}: delivered too often without an ack)", (
        when.replace(tzinfo=UTC) if isinstance(when, datetime) else None
    )


def dead_letter_of(incoming: AbstractIncomingMessage, queue: str) -> DeadLetter:
    """A DLQ message as the port's DeadLetter (ours carry the error; the broker's carry x-death)."""
    headers = _headers(incoming)
    error, when = _text(headers.get(LAST_ERROR)), None
    prior = int(headers.get(ATTEMPTS) or 0)
    attempts = prior
    if error is None:  # the broker's delivery limit: count the redeliveries it saw
        error, when = _broker_reason(headers)
        attempts = prior + int(headers.get("x-delivery-count") or 0)
    dead_at = _text(headers.get(DEAD_LETTERED_AT))
    if dead_at is not None:
        when = datetime.fromtimestamp(float(dead_at), UTC)
    try:
        body = json.loads(incoming.body)
    except ValueError:
        body = {"raw": incoming.body.decode(errors="replace")}
    return DeadLetter(
        id=incoming.message_id or "",
        queue=_text(headers.get(QUEUE)) or queue,
        message=body if isinstance(body, dict) else {"value": body},
        error=error,
        attempts=attempts,
        dead_lettered_at=when or utcnow(),
        correlation_id=incoming.correlation_id,
    )
