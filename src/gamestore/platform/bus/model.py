"""The event bus port: fan events out from the event store to consumer groups."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from typing import Protocol

from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.eventstore import RecordedEvent

EventHandler = Callable[[RecordedEvent], Awaitable[None]]
BatchHandler = Callable[[list[RecordedEvent]], Awaitable[None]]


def one_at_a_time(handler: BatchHandler) -> EventHandler:
    """A batch handler called with batches of one event."""

    async def handle(event: RecordedEvent) -> None:
        await handler([event])

    return handle


class EventBus(Protocol):
    """Every adapter passes ``tests/integration/bus`` contract suite.

    Delivery is at-least-once per consumer group (in global order on the embedded bus; RabbitMQ's
    quorum queues reorder redeliveries, so handlers compare versions); handlers make the effect
    exactly-once with the inbox (``gamestore.platform.inbox``). A handler that keeps failing
    is dead-lettered after ``max_attempts`` and the group moves on. An outage of what the
    handler or the adapter needs (``platform.faults``) is waited out in place and is never an
    attempt: nothing is checkpointed, acked or dead-lettered because an engine was away.
    """

    async def consume(
        self,
        group: str,
        types: Collection[str],
        handler: EventHandler,
        *,
        stop: asyncio.Event,
        max_attempts: int = 5,
    ) -> None: ...

    async def consume_batches(
        self,
        group: str,
        types: Collection[str],
        handler: BatchHandler,
        *,
        stop: asyncio.Event,
        max_attempts: int = 5,
    ) -> None:
        """Like :meth:`consume`, for handlers that apply many events at once cheaper than one
        by one (the search indexer: one index commit per batch). The handler gets the events of
        a batch in order; when a batch keeps failing, its events are delivered one at a time, so
        only the poison one is dead-lettered. Adapters may use batches of one."""
        ...

    async def run_publisher(self, *, stop: asyncio.Event) -> None:
        """Move events from the event store onto the bus (a no-op where the store IS the bus)."""
        ...

    async def dead_letters(self, group: str | None = None) -> list[DeadLetter]:
        """Events a group's handler gave up on (``queue`` is the group, ``source`` is
        ``bus``), oldest first: of one group, or of every group that ever consumed."""
        ...

    async def replay(self, dead_letter_id: str) -> bool:
        """Deliver a dead letter again to its group alone, with fresh attempts, and remove it
        from the dead letters; False when there is no such dead letter."""
        ...

    async def discard(self, dead_letter_id: str) -> bool:
        """Drop one dead letter for good; False when there is none with that id."""
        ...

    async def purge(self, group: str | None = None) -> int:
        """Drop the dead letters of one group, or of all; how many went."""
        ...

    async def ping(self) -> None:
        """One round trip to what the bus runs on (a readiness probe); raises if it fails."""
        ...

    async def close(self) -> None: ...
