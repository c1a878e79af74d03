"""A member of an embedded bus's consumer group: it follows the log while it holds the group's
lease, delivers each event (retries, dead letters) and moves the group's checkpoint after it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from gamestore.platform.bus.deadletters import DeadLetterTable
from gamestore.platform.bus.delivery import Backoff, Ending, Retrier, handling, log, wait_for_news
from gamestore.platform.bus.lease import Lease
from gamestore.platform.bus.model import BatchHandler, EventHandler
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.faults import OutageLog, Pause, until_available
from gamestore.platform.health import Heartbeat
from gamestore.platform.logs import correlation
from gamestore.platform.metrics import CONSUMER_DELIVERIES

SKIP_SAVE_INTERVAL = 1.0  # seconds between checkpoint writes that only skip other types
REPLAY_LOOK_INTERVAL = 1.0  # seconds between looks for dead letters an operator replayed


def checkpoint_name(group: str) -> str:
    """The event store checkpoint that keeps a group's place in the log (``gamestore reindex``
    reads the indexer's)."""
    return f"bus:{group}"


@dataclass(frozen=True, slots=True)
class Feed:
    """What the members of an embedded bus's groups share: the log they follow, where they put
    what they give up on, and how they read, wait and retry."""

    store: EventStore
    dead: DeadLetterTable
    batch_size: int
    idle_timeout: float
    backoff: Backoff
    pause: Pause


class Member:
    """One member of a group, across its turns holding the lease (an outage ends a turn)."""

    def __init__(
        self,
        feed: Feed,
        group: str,
        handler: EventHandler,
        batch: BatchHandler | None,
        stop: asyncio.Event,
        max_attempts: int,
        beat: Heartbeat,
    ) -> None:
        self.feed, self.group, self.handler, self.batch = feed, group, handler, batch
        self.stop, self.max_attempts = stop, max_attempts
        self.retrier = Retrier(group, stop, max_attempts, feed.backoff, feed.pause, beat)
        self.started_on: int | None = None  # the position this process's first turn began at

    async def follow(self, types: Sequence[str], lease: Lease, outage: OutageLog) -> None:
        await Turn(self, lease, outage).follow(types)

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
        dead = self.feed.dead
        await until_available(
            lambda: dead.add(self.group, event, error, attempts),
            stop=self.stop, what="bus dead letters", pause=self.feed.pause,
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


class Turn:
    """One turn of a member holding the group's lease: read pages, deliver, checkpoint."""

    def __init__(self, member: Member, lease: Lease, outage: OutageLog) -> None:
        self.member, self.lease, self.outage = member, lease, outage
        self.feed = member.feed
        self.name = checkpoint_name(member.group)
        self.position = 0
        self.saved = 0  # the position last written to the checkpoint
        self.saved_at = 0.0
        self.replays_looked_at = 0.0

    def over(self) -> bool:
        return self.member.stop.is_set() or self.lease.lost.is_set()

    async def follow(self, types: Sequence[str]) -> None:
        store = self.feed.store
        self.position = self.saved = await store.load_checkpoint(self.name)
        self.outage.recovered()
        fresh = True  # nothing handled yet in this turn: a predecessor may have died here
        while not self.over():
            if not await self._deliver_replays():
                return
            head = await store.head()  # read first: every event up to it is visible below
            events = await store.read_all(self.position, self.feed.batch_size, types=types or None)
            full_page = len(events) == self.feed.batch_size  # more may follow at once
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
                store, self.position, self.feed.idle_timeout, self.member.stop, self.lease.lost
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
        dead = self.feed.dead
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
        started = await self.feed.dead.count_first_attempt(member.group, first.position)
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
        await self.feed.store.save_checkpoint(self.name, self.position)
        self.saved, self.saved_at = self.position, time.monotonic()
