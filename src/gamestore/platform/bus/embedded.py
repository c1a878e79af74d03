"""The embedded bus: catch-up subscriptions on the event store itself.

A consumer group is a checkpoint named ``bus:<group>`` in the event store. The active member
reads the global log after the checkpoint, calls the handler per event in global order and moves
the checkpoint only after the handler returned: at-least-once, resumed after any restart. One
member per group is active at a time (a lease); the others stand by and take over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence

from gamestore.platform.bus.deadletters import DeadLetterTable
from gamestore.platform.bus.delivery import (
    Backoff,
    attempt,
    log,
    sleep_unless_stopped,
    wait_for_news,
)
from gamestore.platform.bus.lease import Lease, close_leases, leases_for
from gamestore.platform.bus.model import EventHandler
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.queue.model import DeadLetter


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
        while not stop.is_set():
            async with self._leases.hold(checkpoint_name(group), stop) as lease:
                if lease is None:
                    return
                log.info("consumer group active", group=group)
                await self._follow(group, sorted(types), handler, stop, lease, max_attempts)

    async def _follow(
        self,
        group: str,
        types: Sequence[str],
        handler: EventHandler,
        stop: asyncio.Event,
        lease: Lease,
        max_attempts: int,
    ) -> None:
        name = checkpoint_name(group)
        position = await self._store.load_checkpoint(name)
        fresh = True  # nothing handled yet by this member: a predecessor may have died here
        while not (stop.is_set() or lease.lost.is_set()):
            head = await self._store.head()  # read first: every event up to it is visible below
            events = await self._store.read_all(position, self._batch_size, types=types or None)
            for event in events:
                if stop.is_set() or lease.lost.is_set():
                    return
                poisoned = fresh and await self._killed_its_handlers(group, event, max_attempts)
                if not poisoned:  # (a poisoned event is dead-lettered unhandled)
                    if not await self._deliver(group, event, handler, stop, max_attempts):
                        return
                    fresh = False
                position = event.position
                await self._store.save_checkpoint(name, position)
            if len(events) == self._batch_size:
                continue
            if head > position:  # skip past the events of other types
                position = head
                await self._store.save_checkpoint(name, position)
            await wait_for_news(self._store, position, self._idle_timeout, stop, lease.lost)

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
            if number < max_attempts and await sleep_unless_stopped(
                stop, self._backoff.delay(number)
            ):
                return False
        await self._dead.add(group, event, error, max_attempts)
        log.error("event dead-lettered", group=group, event_id=event.event_id, error=error)
        return True

    async def _killed_its_handlers(
        self, group: str, event: RecordedEvent, max_attempts: int
    ) -> bool:
        """True (and dead-lettered) when ``max_attempts`` members in a row died on it as the
        first event they tried (the member that first died on it mid-run is not counted: only
        a fresh start records an attempt, which costs one write per start, none per event)."""
        started = await self._dead.count_first_attempt(group, event.position)
        if started <= max_attempts:
            return False
        error = f"the consumer process died while handling it, {started - 1} times in a row"
        await self._dead.add(group, event, error, started - 1)
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
