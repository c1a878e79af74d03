"""The work queue port: durable commands, leases, retries with backoff, a dead-letter queue."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gamestore.platform.deadletter import DeadLetter


@dataclass(frozen=True, slots=True)
class Message:
    """One delivery of a queued command. ``attempts`` is 1 on the first delivery."""

    id: str
    queue: str
    body: dict[str, Any]
    attempts: int
    correlation_id: str | None
    enqueued_at: datetime
    traceparent: str | None = None  # the span that queued it (platform/tracing.py)


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help: the message is dead-lettered at once.

    Its dead letter's error reads ``"<kind>: <message>"``, so the handler's message should say
    what happened in words an operator can act on.
    """

    kind = "permanent"


class RetriesExhausted(PermanentError):
    """A failure that was transient each time, given up on after the handler's last retry or
    wait: dead-lettered at once, and its dead letter says it was transient (a replay may help)."""

    kind = "transient"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; dead-letter after ``max_attempts`` deliveries."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait before the delivery that follows attempt number ``attempts``."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempts - 1)))
        # Retry jitter, not a secret: the standard generator is the right one.
        return random.uniform(ceiling / 2, ceiling)  # nosec B311


DEFAULT_POLICY = RetryPolicy()

Handler = Callable[[Message], Awaitable[None]]


class WorkQueue(Protocol):
    """Every adapter passes ``tests/integration/queue`` contract suite."""

    async def enqueue(
        self,
        queue: str,
        body: Mapping[str, Any],
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Queue a command durably; returns its id (the given ``message_id`` or a new one)."""
        ...

    async def consume(
        self,
        queue: str,
        handler: Handler,
        *,
        stop: asyncio.Event,
        policy: RetryPolicy = RetryPolicy(),
        concurrency: int = 1,
    ) -> None:
        """Handle messages until ``stop`` is set. Ack only after ``handler`` returned;
        an exception retries with backoff; after ``policy.max_attempts`` → dead letter."""
        ...

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]: ...

    async def replay(self, dead_letter_id: str) -> bool:
        """Put a dead letter back on its queue with a fresh attempt count."""
        ...

    async def purge(self, queue: str | None = None) -> int:
        """Drop dead letters (of one queue, or all); returns how many."""
        ...

    async def discard(self, dead_letter_id: str) -> bool:
        """Drop one dead letter (``DELETE /admin/dlq/{id}``); False when there is none."""
        ...

    async def pending(self, queue: str) -> int:
        """Messages of ``queue`` still to be handled (on RabbitMQ: not counting unacked ones)."""
        ...

    async def oldest_age(self, queue: str) -> float | None:
        """Seconds the oldest message of ``queue`` has waited (0 when empty); None where the
        engine cannot tell (a broker does not expose it)."""
        ...

    async def ping(self) -> None:
        """One round trip to the queue's engine (a readiness probe); raises if it fails."""
        ...

    async def close(self) -> None: ...
