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
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from gamestore.platform.bus.deadletters import DeadLetterTable
from gamestore.platform.bus.delivery import (
    Backoff,
    Ending,
    Retrier,
    handling,
    log,
    wait_for_news,
)
from gamestore.platform.bus.lease import Lease, close_leases, leases_for
from gamestore.platform.bus.model import BatchHandler, EventHandler, one_at_a_time
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.faults import (
    DEFAULT_PAUSE,
    OutageLog,
    Pause,
    run_through_outages,
    until_available,
)
from gamestore.platform.health import HEALTH, Heartbeat
from gamestore.platform.logs import correlation
from gamestore.platform.metrics import (
    CONSUMER_DELIVERIES,
    CONSUMER_LAG_EVENTS,
    CONSUMER_LAG_SECONDS,
    DEAD_LETTERS,
    on_scrape,
)
from gamestore.platform.queue.model import DeadLetter

SKIP_SAVE_INTERVAL = 1.0  # seconds between checkpoint writes that only skip other types
REPLAY_LOOK_INTERVAL = 1.0  # seconds between looks for dead letters an operator replayed
LAG_COUNTED = 1000  # events a lag sample counts one by one; past that, the distance in positions


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
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._idle_timeout = idle_timeout
        self._backoff = backoff or Backoff()
        self._pause = pause
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
        with HEALTH.loop(f"bus {group}") as beat:
            member = _Member(self, group, handler, batch, stop, max_attempts, beat)
            with on_scrape(lambda: self._sample(group, sorted(types))):
                await self._follow(member, types)

    async def _follow(self, member: _Member, types: Collection[str]) -> None:
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

    def retrier(
        self, group: str, stop: asyncio.Event, max_attempts: int, beat: Heartbeat
    ) -> Retrier:
        return Retrier(group, stop, max_attempts, self._backoff, self._pause, beat)

    async def _sample(self, group: str, types: list[str]) -> None:
        """The group's lag (its events past its checkpoint, and how old the first of them is)
        and its dead letters, for a scrape."""
        position = await self._store.load_checkpoint(checkpoint_name(group))
        waiting = await self._store.read_all(position, LAG_COUNTED, types=types or None)
        lag = len(waiting) if len(waiting) < LAG_COUNTED else await self._store.head() - position
        age = (datetime.now(UTC) - waiting[0].occurred_at).total_seconds() if waiting else 0.0
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
        await close_leases(self._leases)
        await self._engine.dispose()


class _Member:
    """One member of a group, across its turns holding the lease (an outage ends a turn)."""

    def __init__(
        self,
        bus: EmbeddedBus,
        group: str,
        handler: EventHandler,
        batch: BatchHandler | None,
        stop: asyncio.Event,
        max_attempts: int,
        beat: Heartbeat,
    ) -> None:
        self.bus, self.group, self.handler, self.batch = bus, group, handler, batch
        self.stop, self.max_attempts = stop, max_attempts
        self.retrier = bus.retrier(group, stop, max_attempts, beat)
        self.started_on: int | None = None  # the position this process's first turn began at

    async def follow(self, types: Sequence[str], lease: Lease, outage: OutageLog) -> None:
        await _Turn(self, lease, outage).follow(types)

    async def deliver(self, event: RecordedEvent) -> bool:
        """Handle ``event`` (retries; dead letter after ``max_attempts``); False if stopped."""
        with correlation(event.correlation_id), handling(self.group, [event]):
            done = await self.retrier.run(
                lambda: self.handler(event), event_id=event.event_id, event_type=event.type
            )
        if done.ending is Ending.STOPPED:
            return False
        if done.ending is Ending.FAILED:
            await self.dead_letter(event, done.error, done.attempts)
        return True

    async def dead_letter(self, event: RecordedEvent, error: str, attempts: int) -> None:
        dead = self.bus._dead
        await until_available(
            lambda: dead.add(self.group, event, error, attempts),
            stop=self.stop, what="bus dead letters", pause=self.bus._pause,
        )  # fmt: skip
        CONSUMER_DELIVERIES.labels(self.group, "dead_lettered").inc()
        log.error("event dead-lettered", group=self.group, event_id=event.event_id, error=error)

    async def deliver_page(self, events: list[RecordedEvent]) -> bool | None:
        """The batch handler with retries: True handled, False failed for good, None stopped."""
        assert self.batch is not None
        batch = self.batch
        with handling(self.group, events):
            done = await self.retrier.run(
                lambda: batch(events), events=len(events), first_position=events[0].position
            )
        return None if done.ending is Ending.STOPPED else done.ending is Ending.HANDLED


class _Turn:
    """One turn of a member holding the group's lease: read pages, deliver, checkpoint."""

    def __init__(self, member: _Member, lease: Lease, outage: OutageLog) -> None:
        self.member, self.lease, self.outage = member, lease, outage
        self.bus = member.bus
        self.name = checkpoint_name(member.group)
        self.position = 0
        self.saved = 0  # the position last written to the checkpoint
        self.saved_at = 0.0
        self.replays_looked_at = 0.0

    def over(self) -> bool:
        return self.member.stop.is_set() or self.lease.lost.is_set()

    async def follow(self, types: Sequence[str]) -> None:
        store = self.bus._store
        self.position = self.saved = await store.load_checkpoint(self.name)
        self.outage.recovered()
        fresh = True  # nothing handled yet in this turn: a predecessor may have died here
        while not self.over():
            if not await self._deliver_replays():
                return
            head = await store.head()  # read first: every event up to it is visible below
            events = await store.read_all(self.position, self.bus._batch_size, types=types or None)
            full_page = len(events) == self.bus._batch_size  # more may follow at once
            suspect = False
            if fresh and events:
                fresh = False
                events, suspect = await self._after_a_death(events)
            if not await self._deliver_all(events, suspect):
                return
            if full_page:
                continue
            if head > self.position:  # skip past the events of other types (none is pending)
                await self._skip_to(head)
            await wait_for_news(
                store, self.position, self.bus._idle_timeout, self.member.stop, self.lease.lost
            )
        await self._flush()

    async def _deliver_all(self, events: list[RecordedEvent], suspect: bool) -> bool:
        """A page, in one batch call if it can be, else event by event; False if stopped."""
        if events and self.member.batch is not None and not suspect:
            handled = await self.member.deliver_page(events)
            if handled is None:
                return False
            if handled:
                await self._advance(events[-1].position)
                return True
        for event in events:  # one by one: no batch handler, or the page is suspect or failed
            if self.over() or not await self.member.deliver(event):
                return False
            await self._advance(event.position)
        return True

    async def _deliver_replays(self) -> bool:
        """Dead letters an operator replayed, delivered again (looked for about once a
        second); False if stopped."""
        now = time.monotonic()
        if now - self.replays_looked_at < REPLAY_LOOK_INTERVAL:
            return True
        self.replays_looked_at = now
        dead = self.bus._dead
        for replay_id, event in await dead.replays(self.member.group):
            if self.over() or not await self.member.deliver(event):
                return False
            await dead.replayed(replay_id)
            log.info("replayed event delivered", group=self.member.group, event_id=event.event_id)
        return True

    async def _after_a_death(self, events: list[RecordedEvent]) -> tuple[list[RecordedEvent], bool]:
        """A fresh member records where it starts. Members that keep starting on the same event
        are members that keep dying on it (a clean stop leaves no event half-handled, and a
        turn this process ended because of an outage is not counted again): after
        ``max_attempts`` of them in a row it is dead-lettered unhandled; after one, the page is
        delivered event by event so the next death, if any, points at the culprit."""
        first = events[0]
        member = self.member
        if member.started_on == first.position:
            return events, False
        member.started_on = first.position
        started = await self.bus._dead.count_first_attempt(member.group, first.position)
        if started <= member.max_attempts:
            return events, started > 1
        error = f"the consumer process died while handling it, {started - 1} times in a row"
        await member.dead_letter(first, error, started - 1)
        await self._advance(first.position)
        return events[1:], False

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
