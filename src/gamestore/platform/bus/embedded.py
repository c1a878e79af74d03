"""The embedded bus: catch-up subscriptions on the event store itself.

A consumer group is a checkpoint named ``bus:<group>`` in the event store. The active member
reads the global log after the checkpoint, calls the handler per event in global order and moves
the checkpoint only after the handler returned: at-least-once, resumed after any restart. One
member per group is active at a time (a lease); the others stand by and take over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Sequence

from gamestore.platform.bus.deadletters import DeadLetterTable
from gamestore.platform.bus.delivery import (
    Backoff,
    attempt,
    attempt_batch,
    log,
    wait_for_news,
)
from gamestore.platform.bus.lease import Lease, close_leases, leases_for
from gamestore.platform.bus.model import BatchHandler, EventHandler, one_at_a_time
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.queue.model import DeadLetter
from gamestore.platform.waiting import wait_event

SKIP_SAVE_INTERVAL = 1.0  # seconds between checkpoint writes that only skip other types


def checkpoint_name(group: str) -> str:
    return f"bus:{group}"


class EmbeddedBus:
    """An EventBus over an EventStore; ``store_url`` names the same database (leases, DLQ)."""

    def __init__(
        self,
        store: EventStore,
        store_url: str,
        *,
        batch_size: int = 256,
        idle_timeout: float = 1.0,
        lease_ttl: float = 10.0,
        standby_poll: float = 0.5,
        backoff: Backoff | None = None,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._idle_timeout = idle_timeout
        self._backoff = backoff or Backoff()
        self._leases = leases_for(store_url, ttl=lease_ttl, poll=standby_poll)
        self._engine = create_engine(store_url)
        self._dead = DeadLetterTable(self._engine)

    async def consume(
        self,
        group: str,
        types: Collection[str],
        handler: EventHandler,
        *,
        stop: asyncio.Event,
        max_attempts: int = 5,
    ) -> None:
        """Stand by until this member holds the group's lease, then follow the log until
        ``stop`` is set. An empty ``types`` means every type."""
        await self._consume(group, types, handler, None, stop, max_attempts)

    async def consume_batches(
        self,
        group: str,
        types: Collection[str],
        handler: BatchHandler,
        *,
        stop: asyncio.Event,
        max_attempts: int = 5,
    ) -> None:
        """As :meth:`consume`, a page of the log (up to ``batch_size`` events) per call."""
        await self._consume(group, types, one_at_a_time(handler), handler, stop, max_attempts)

    async def _consume(
        self,
        group: str,
        types: Collection[str],
        handler: EventHandler,
        batch: BatchHandler | None,
        stop: asyncio.Event,
        max_attempts: int,
    ) -> None:
        while not stop.is_set():
            async with self._leases.hold(checkpoint_name(group), stop) as lease:
                if lease is None:
                    return
                log.info("consumer group active", group=group)
                follower = _Follower(self, group, handler, batch, stop, lease, max_attempts)
                await follower.follow(sorted(types))

    async def _deliver(
        self,
        group: str,
        event: RecordedEvent,
        handler: EventHandler,
        stop: asyncio.Event,
        max_attempts: int,
    ) -> bool:
        """Handle with retries, dead-letter after ``max_attempts``; False if stopped first."""
        error = "never attempted"
        for number in range(1, max_attempts + 1):
            failure = await attempt(group, handler, event, number)
            if failure is None:
                return True
            error = failure
            if number < max_attempts and await wait_event(stop, self._backoff.delay(number)):
                return False
        await self._dead.add(group, event, error, max_attempts)
        log.error("event dead-lettered", group=group, event_id=event.event_id, error=error)
        return True

    async def run_publisher(self, *, stop: asyncio.Event) -> None:
        """Nothing to move: the event store is the bus. Returns when ``stop`` is set."""
        await stop.wait()

    async def dead_letters(self, group: str | None = None) -> list[DeadLetter]:
        return await self._dead.list(group)

    async def close(self) -> None:
        """Release this bus's own connections (the event store stays open: it is the caller's)."""
        await close_leases(self._leases)
        await self._engine.dispose()


class _Follower:
    """One member's run while it holds the group's lease: read pages, deliver, checkpoint."""

    def __init__(
        self,
        bus: EmbeddedBus,
        group: str,
        handler: EventHandler,
        batch: BatchHandler | None,
        stop: asyncio.Event,
        lease: Lease,
        max_attempts: int,
    ) -> None:
        self.bus, self.group, self.handler, self.batch = bus, group, handler, batch
        self.stop, self.lease, self.max_attempts = stop, lease, max_attempts
        self.name = checkpoint_name(group)
        self.position = 0
        self.saved = 0  # the position last written to the checkpoint
        self.saved_at = 0.0

    def over(self) -> bool:
        return self.stop.is_set() or self.lease.lost.is_set()

    async def follow(self, types: Sequence[str]) -> None:
        store = self.bus._store
        self.position = self.saved = await store.load_checkpoint(self.name)
        fresh = True  # nothing handled yet by this member: a predecessor may have died here
        while not self.over():
            head = await store.head()  # read first: every event up to it is visible below
            events = await store.read_all(self.position, self.bus._batch_size, types=types or None)
            full_page = len(events) == self.bus._batch_size  # more may follow at once
            suspect = False
            if fresh and events:
                fresh = False
                events, suspect = await self._after_a_death(events)
            if events and self.batch is not None and not suspect:
                if await self._deliver_page(events):
                    await self._advance(events[-1].position)
                    events = []
                elif self.over():
                    return
            for event in events:  # one by one: no batch handler, or the page is suspect
                if self.over() or not await self.bus._deliver(
                    self.group, event, self.handler, self.stop, self.max_attempts
                ):
                    return
                await self._advance(event.position)
            if full_page:
                continue
            if head > self.position:  # skip past the events of other types (none is pending)
                await self._skip_to(head)
            await wait_for_news(
                store, self.position, self.bus._idle_timeout, self.stop, self.lease.lost
            )
        await self._flush()

    async def _after_a_death(self, events: list[RecordedEvent]) -> tuple[list[RecordedEvent], bool]:
        """A fresh member records where it starts. Members that keep starting on the same event
        are members that keep dying on it (a clean stop leaves no event half-handled): after
        ``max_attempts`` of them in a row it is dead-lettered unhandled; after one, the page is
        delivered event by event so the next death, if any, points at the culprit."""
        first = events[0]
        started = await self.bus._dead.count_first_attempt(self.group, first.position)
        if started <= self.max_attempts:
            return events, started > 1
        error = f"the consumer process died while handling it, {started - 1} times in a row"
        await self.bus._dead.add(self.group, first, error, started - 1)
        log.error("event dead-lettered", group=self.group, event_id=first.event_id, error=error)
        await self._advance(first.position)
        return events[1:], False

    async def _deliver_page(self, events: list[RecordedEvent]) -> bool:
        """The batch handler with retries; False if it kept failing (or we were stopped)."""
        assert self.batch is not None
        for number in range(1, self.max_attempts + 1):
            if await attempt_batch(self.group, self.batch, events, number) is None:
                return True
            if number < self.max_attempts and await wait_event(
                self.stop, self.bus._backoff.delay(number)
            ):
                return False
        return False

    async def _advance(self, position: int) -> None:
        """Past a HANDLED event: written at once (a restart must not hand it out again)."""
        self.position = position
        await self._save()

    async def _skip_to(self, position: int) -> None:
        """Past events of other types only: kept in memory and written at most once per
        ``SKIP_SAVE_INTERVAL``. Every group sees every append, so writing each skip made the
        store's single writer do one checkpoint per group per event; a restart that re-reads
        skipped positions finds nothing of its types there (the last handled event is always
        written, so a restart still starts right after it)."""
        self.position = position
        if time.monotonic() - self.saved_at >= SKIP_SAVE_INTERVAL:
            await self._save()

    async def _flush(self) -> None:
        if self.position != self.saved and not self.lease.lost.is_set():
            await self._save()

    async def _save(self) -> None:
        await self.bus._store.save_checkpoint(self.name, self.position)
        self.saved, self.saved_at = self.position, time.monotonic()
