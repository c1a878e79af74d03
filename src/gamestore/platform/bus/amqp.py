"""The AMQP shapes of the RabbitMQ bus: names, queue arguments, event ⇄ message."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from gamestore.platform.clock import utcnow
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.eventstore import RecordedEvent

DEFAULT_EXCHANGE = "gamestore.events"


def queue_name(group: str) -> str:
    return f"gamestore.{group}"


def dlq_name(group: str) -> str:
    return f"gamestore.{group}.dlq"


def dlx_name(exchange: str) -> str:
    return f"{exchange}.dlx"


def queue_arguments(exchange: str, group: str, max_attempts: int) -> dict[str, Any]:
    """A quorum queue whose broker-side delivery limit matches ``max_attempts`` deliveries.

    The limit only matters when a consumer dies mid-message again and again (the broker counts
    the returns); a handler that raises is dead-lettered by the consumer, with its error.
    """
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": max(max_attempts - 1, 0),
        "x-dead-letter-exchange": dlx_name(exchange),
        "x-dead-letter-routing-key": queue_name(group),
    }


def event_message(event: RecordedEvent) -> aio_pika.Message:
    """A persistent JSON message; its id is the event id, so consumers can deduplicate."""
    headers: dict[str, Any] = {"stream_id": event.stream_id, "position": event.position}
    if event.correlation_id:
        headers["correlation_id"] = event.correlation_id
    if event.traceparent:  # also in the body's envelope; a header for AMQP-aware tracers
        headers["traceparent"] = event.traceparent
    return aio_pika.Message(
        body=json.dumps(event.envelope()).encode(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(event.event_id),
        correlation_id=event.correlation_id,
        type=event.type,
        timestamp=event.occurred_at,
        headers=headers,
    )


def event_of(message: AbstractIncomingMessage) -> RecordedEvent:
    """The RecordedEvent inside a message; raises ValueError/KeyError on a malformed body."""
    return RecordedEvent.from_envelope(json.loads(message.body))


def attempts_of(message: AbstractIncomingMessage) -> int:
    """1 on the first delivery; quorum queues count earlier returns in ``x-delivery-count``."""
    return int(str((message.headers or {}).get("x-delivery-count") or 0)) + 1


DEATH_HEADERS = ("x-group", "x-error", "x-attempts", "x-dead-lettered-at", "x-dead-letter-id")


def dead_message(message: AbstractIncomingMessage, group: str, error: str, attempts: int) -> Any:
    """A copy of ``message`` for the DLQ, carrying why and when it died, and its own id."""
    headers = dict(message.headers or {})
    headers.update(
        {
            "x-group": group,
            "x-error": error,
            "x-attempts": attempts,
            "x-dead-lettered-at": utcnow().isoformat(),
            "x-dead-letter-id": str(uuid.uuid4()),
        }
    )
    return _copy(message, headers)


def replayed_message(message: AbstractIncomingMessage) -> Any:
    """A fresh copy of a dead letter for its group's queue: no trace of its deaths, so the
    broker counts its deliveries from zero again."""
    kept = {
        name: value
        for name, value in (message.headers or {}).items()
        if name not in DEATH_HEADERS and not name.startswith(("x-death", "x-first-death"))
        and not name.startswith(("x-last-death", "x-delivery-count"))
    }  # fmt: skip
    return _copy(message, kept)


def _copy(message: AbstractIncomingMessage, headers: dict[str, Any]) -> Any:
    return aio_pika.Message(
        body=message.body,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        timestamp=message.timestamp,
        headers=headers,
    )


def dead_letter_id(message: AbstractIncomingMessage, group: str) -> str:
    """The id an operator names a dead letter by: stamped when our consumer dead-lettered it;
    ``<group>:<event id>`` for one the broker dead-lettered (its delivery limit)."""
    stamped = (message.headers or {}).get("x-dead-letter-id")
    return str(stamped) if stamped else f"{group}:{message.message_id or ''}"


def dead_letter_of(message: AbstractIncomingMessage, group: str) -> DeadLetter:
    """Read a DLQ message, dead-lettered by a consumer (with its error) or by the broker."""
    headers = message.headers or {}
    died = headers.get("x-dead-lettered-at")
    when = datetime.fromisoformat(str(died)) if died else _broker_death_time(headers)
    try:
        body: dict[str, Any] = json.loads(message.body)
    except ValueError:
        body = {"raw": message.body.decode(errors="replace")}
    return DeadLetter(
        id=dead_letter_id(message, group),
        queue=group,
        message=body,
        error=str(headers.get("x-error") or _broker_reason(headers)),
        attempts=int(str(headers.get("x-attempts") or 0)),
        dead_lettered_at=when,
        correlation_id=message.correlation_id,
        source="bus",
    )


def _broker_death(headers: Any) -> dict[str, Any]:
    deaths = headers.get("x-death") or [{}]
    return dict(deaths[0])


def _broker_reason(headers: Any) -> str:
    reason = _broker_death(headers).get("reason", "unknown")
    return f"dead-lettered by the broker: {reason} (the consumer died handling it)"


def _broker_death_time(headers: Any) -> datetime:
    when = _broker_death(headers).get("time")
    return when if isinstance(when, datetime) else utcnow()
