"""The embedded bus: catch-up subscriptions on the event store itself.

A consumer group is a checkpoint named ``bus:<group>`` in the event store. The active member
reads the global log after the checkpoint, calls the handler per event in global order and moves
the checkpoint only after the handler returned: at-least-once, resumed after any restart. One
member per group is active at a time (a lease); the others stand by and take over.

Outages (``platform.faults``) never cost an event an attempt and never end the consumer: a
handler whose dependency is away is called again after a pause, in place; a member whose own
reads, checkpoints or lease fail waits the outage out and resumes from its checkpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from gamestore.platform.bus.deadletters import DeadLetterTable
from gamestore.platform.bus.delivery import Backoff, log
from gamestore.platform.bus.follower import Feed, Member, checkpoint_name
from gamestore.platform.bus.lease import leases_for
from gamestore.platform.bus.model import BatchHandler, EventHandler, one_at_a_time
from gamestore.platform.clock import utcnow
from gamestore.platform.db import create_engine
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.eventstore import EventStore
from gamestore.platform.faults import DEFAULT_PAUSE, OutageLog, Pause, run_through_outages
from gamestore.platform.health import HEALTH
from gamestore.platform.metrics import (
    CONSUMER_LAG_EVENTS,
    CONSUMER_LAG_SECONDS,
    DEAD_LETTERS,
    on_scrape,
)

LAG_COUNTED = 1000  # events a lag sample counts one by one; past that, the distance in positions


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
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        self._store = store
        self._pause = pause
        self._leases = leases_for(store_url, ttl=lease_ttl, poll=standby_poll)
        self._engine = create_engine(store_url)
        self._dead = DeadLetterTable(self._engine)
        self._feed = Feed(store, self._dead, batch_size, idle_timeout, backoff or Backoff(), pause)

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
        with HEALTH.loop(f"bus {group}") as beat:
            member = Member(self._feed, group, handler, batch, stop, max_attempts, beat)
            with on_scrape(lambda: self._sample(group, sorted(types))):
                await self._follow(member, types)

    async def _follow(self, member: Member, types: Collection[str]) -> None:
        group, stop = member.group, member.stop
        outage = OutageLog(f"bus group {group}: the event store", group=group)

        async def turn() -> None:
            """Hold the group's lease and follow the log until stopped or the lease is lost."""
            await self._dead.register(group)
            async with self._leases.hold(checkpoint_name(group), stop) as lease:
                if lease is not None:
                    log.info("consumer group active", group=group)
                    await member.follow(sorted(types), lease, outage)

        await run_through_outages(turn, stop=stop, outage=outage, pause=self._pause)

    async def _sample(self, group: str, types: list[str]) -> None:
        """The group's lag (its events past its checkpoint, and how old the first of them is)
        and its dead letters, for a scrape."""
        position = await self._store.load_checkpoint(checkpoint_name(group))
        waiting = await self._store.read_all(position, LAG_COUNTED, types=types or None)
        lag = len(waiting) if len(waiting) < LAG_COUNTED else await self._store.head() - position
        age = (utcnow() - waiting[0].occurred_at).total_seconds() if waiting else 0.0
        CONSUMER_LAG_EVENTS.labels(group).set(lag)
        CONSUMER_LAG_SECONDS.labels(group).set(max(0.0, age))
        DEAD_LETTERS.labels("bus", group).set(len(await self._dead.dead_letters(group)))

    async def run_publisher(self, *, stop: asyncio.Event) -> None:
        """Nothing to move: the event store is the bus. Returns when ``stop`` is set."""
        await stop.wait()

    async def dead_letters(self, group: str | None = None) -> list[DeadLetter]:
        return await self._dead.dead_letters(group)

    async def replay(self, dead_letter_id: str) -> bool:
        """Hand a dead letter back to its group: its active member delivers it again within
        about a second, with fresh attempts. False when there is no such dead letter."""
        return await self._dead.replay(dead_letter_id)

    async def discard(self, dead_letter_id: str) -> bool:
        return await self._dead.discard(dead_letter_id)

    async def purge(self, group: str | None = None) -> int:
        return await self._dead.purge(group)

    async def ping(self) -> None:
        await self._store.head()

    async def close(self) -> None:
        """Release this bus's own connections (the event store stays open: it is the caller's)."""
        await self._leases.close()
        await self._engine.dispose()
