"""The RabbitMQ bus: a durable topic exchange, one durable quorum queue per consumer group.

The publisher (``run_publisher``) relays the event store's global log onto the exchange with
publisher confirms. ``consume`` acks a message only after the handler returned; a handler that
raises is retried in place after a backoff and, after ``max_attempts`` (counting the broker's
earlier deliveries of it), copied to the group's ``.dlq`` with its error, then acked. An outage
of what the handler needs is waited out in place, the message held unacked: never an attempt,
and never a requeue, which a quorum queue would count toward its delivery limit. Quorum queues
do not keep strict order once a message is redelivered: handlers must be idempotent (the inbox)
and compare versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from contextlib import suppress

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from gamestore.platform.bus import amqp
from gamestore.platform.bus.deadletters import DeadLetterTable
from gamestore.platform.bus.delivery import Backoff, Ending, Retrier, handling, log
from gamestore.platform.bus.lease import leases_for
from gamestore.platform.bus.model import BatchHandler, EventHandler, one_at_a_time
from gamestore.platform.bus.publisher import Publisher
from gamestore.platform.clock import utcnow
from gamestore.platform.db import create_engine
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.faults import (
    DEFAULT_PAUSE,
    OutageLog,
    Pause,
    run_through_outages,
    until_available,
)
from gamestore.platform.health import HEALTH
from gamestore.platform.logs import correlation
from gamestore.platform.metrics import (
    CONSUMER_DELIVERIES,
    CONSUMER_LAG_EVENTS,
    CONSUMER_LAG_SECONDS,
    DEAD_LETTERS,
    on_scrape,
)
from gamestore.platform.queue.rabbitmq_dlq import held_messages, purge_queue
from gamestore.platform.waiting import first_of


class RabbitMqBus:
    """An EventBus on RabbitMQ; ``store`` is the log the publisher relays."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        store: EventStore,
        store_url: str,
        *,
        exchange: str = amqp.DEFAULT_EXCHANGE,
        prefetch: int = 10,
        backoff: Backoff | None = None,
        pause: Pause = DEFAULT_PAUSE,
        standby_poll: float = 0.5,
        lease_ttl: float = 10.0,
    ) -> None:
        self._connection = connection
        self._exchange = exchange
        self._prefetch = prefetch
        self._backoff = backoff or Backoff()
        self._pause = pause
        self._leases = leases_for(store_url, ttl=lease_ttl, poll=standby_poll)
        self._engine = create_engine(store_url)
        self._groups = DeadLetterTable(self._engine)  # the groups' names (their DLQs)
        self._publisher = Publisher(connection, store, exchange, self._leases, pause=pause)
        self._behind: dict[str, float] = {}  # per group: seconds old the last event handled was

    @classmethod
    async def connect(
        cls, url: str, store: EventStore, store_url: str, **options: object
    ) -> RabbitMqBus:
        connection = await aio_pika.connect_robust(url)
        return cls(connection, store, store_url, **options)  # type: ignore[arg-type]

    async def declare(
        self, channel: AbstractChannel, group: str, types: Collection[str], max_attempts: int
    ) -> AbstractQueue:
        """The group's queue bound to each wanted type (``#``: every type), and its DLQ."""
        events = await channel.declare_exchange(
            self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        dlx = await channel.declare_exchange(
            amqp.dlx_name(self._exchange), aio_pika.ExchangeType.DIRECT, durable=True
        )
        dlq = await channel.declare_queue(
            amqp.dlq_name(group), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dlq.bind(dlx, routing_key=amqp.queue_name(group))
        queue = await channel.declare_queue(
            amqp.queue_name(group),
            durable=True,
            arguments=amqp.queue_arguments(self._exchange, group, max_attempts),
        )
        for event_type in sorted(types) or ["#"]:
            await queue.bind(events, routing_key=event_type)
        return queue

    async def consume_batches(
        self,
        group: str,
        types: Collection[str],
        handler: BatchHandler,
        *,
        stop: asyncio.Event,
        max_attempts: int = 5,
    ) -> None:
        """Pages of what has arrived: the messages waiting (up to the prefetch) go to ``handler``
        together and are acked together once it returned. A page that fails is handled again
        one message at a time, as :meth:`consume` does, so a poison message is retried,
        counted and dead-lettered alone and the others of its page still get through."""
        await self._consume(group, types, stop, max_attempts, one_at_a_time(handler), handler)

    async def consume(
        self,
        group: str,
        types: Collection[str],
        handler: EventHandler,
        *,
        stop: asyncio.Event,
        max_attempts: int = 5,
    ) -> None:
        """Handle the group's messages one at a time until ``stop`` is set."""
        await self._consume(group, types, stop, max_attempts, handler, None)

    async def _consume(
        self,
        group: str,
        types: Collection[str],
        stop: asyncio.Event,
        max_attempts: int,
        one: EventHandler,
        pages: BatchHandler | None,
    ) -> None:
        """Consume until ``stop``; a broker or database away at the start is waited for (once
        consuming, the robust connection reconnects and resumes by itself)."""
        outage = OutageLog(f"bus group {group}: the broker", group=group)

        async def consuming() -> None:
            await self._groups.register(group)
            await self._consume_channel(group, types, stop, retrier, one, pages, outage)

        with HEALTH.loop(f"bus {group}") as beat, on_scrape(lambda: self._sample(group, types)):
            retrier = Retrier(group, stop, max_attempts, self._backoff, self._pause, beat)
            await run_through_outages(consuming, stop=stop, outage=outage, pause=self._pause)

    async def _sample(self, group: str, types: Collection[str] = ()) -> None:
        """The group's queue depth and dead letters, for a scrape. How old the waiting events
        are is not something a broker tells: the lag in seconds is how old the last event
        handled was when it was handled, and 0 once the queue is empty."""
        channel = await self._connection.channel()
        try:
            waiting = await channel.declare_queue(amqp.queue_name(group), passive=True)
            dead = await channel.declare_queue(amqp.dlq_name(group), passive=True)
        finally:
            await channel.close()
        depth = waiting.declaration_result.message_count or 0
        CONSUMER_LAG_EVENTS.labels(group).set(depth)
        CONSUMER_LAG_SECONDS.labels(group).set(self._behind.get(group, 0.0) if depth else 0.0)
        DEAD_LETTERS.labels("bus", group).set(dead.declaration_result.message_count or 0)

    async def _consume_channel(
        self,
        group: str,
        types: Collection[str],
        stop: asyncio.Event,
        retrier: Retrier,
        one: EventHandler,
        pages: BatchHandler | None,
        outage: OutageLog,
    ) -> None:
        channel = await self._connection.channel()
        try:
            await channel.set_qos(prefetch_count=self._prefetch)
            queue = await self.declare(channel, group, types, retrier.max_attempts)
            dlx = await channel.get_exchange(amqp.dlx_name(self._exchange))
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(arrived.put)
            outage.recovered()
            while (message := await _next(arrived, stop)) is not None:
                page = [message]
                while pages is not None and len(page) < self._prefetch and not arrived.empty():
                    page.append(arrived.get_nowait())
                if len(page) > 1 and pages is not None:
                    handled = await self._page(retrier, page, pages)
                    if handled is not False:  # handled, or stopped (left unacked)
                        continue
                for each in page:
                    await self._handle(dlx, retrier, each, one)
        finally:
            with suppress(Exception):  # closing returns every unacked message to the queue
                await channel.close()

    async def _page(
        self, retrier: Retrier, page: list[AbstractIncomingMessage], handler: BatchHandler
    ) -> bool | None:
        """One call for the whole page (outages waited out), then every ack. False (nothing
        settled) if it failed, None if stopped."""
        try:
            events = [amqp.event_of(message) for message in page]
        except (ValueError, KeyError, TypeError):
            return False  # a malformed one among them: one at a time dead-letters it
        self._note_behind(retrier.group, events[0])
        once = Retrier(retrier.group, retrier.stop, 1, retrier.backoff, retrier.pause, retrier.beat)
        with handling(retrier.group, events):
            done = await once.run(lambda: handler(events), events=len(events))
        if done.ending is not Ending.HANDLED:
            return None if done.ending is Ending.STOPPED else False
        for message in page:
            await _settle(message.ack())
        return True

    def _note_behind(self, group: str, event: RecordedEvent) -> None:
        self._behind[group] = (utcnow() - event.occurred_at).total_seconds()

    async def _handle(
        self,
        dlx: AbstractExchange,
        retrier: Retrier,
        message: AbstractIncomingMessage,
        handler: EventHandler,
    ) -> None:
        if retrier.stop.is_set():
            return  # left unacked: the channel's close returns it
        number = amqp.attempts_of(message)
        try:
            event = amqp.event_of(message)
        except (ValueError, KeyError, TypeError) as malformed:
            error = f"malformed event: {malformed!r}"
            await self._dead_letter(dlx, retrier, message, error, number)
            return
        self._note_behind(retrier.group, event)
        with correlation(event.correlation_id), handling(retrier.group, [event]):
            done = await retrier.run(lambda: handler(event), first=number, event_id=event.event_id)
        if done.ending is Ending.HANDLED:
            await _settle(message.ack())
        elif done.ending is Ending.FAILED:
            await self._dead_letter(dlx, retrier, message, done.error, done.attempts)

    async def _dead_letter(
        self,
        dlx: AbstractExchange,
        retrier: Retrier,
        message: AbstractIncomingMessage,
        error: str,
        attempts: int,
    ) -> None:
        """Copy to the DLQ (confirmed, through outages), then ack: a crash in between leaves
        a duplicate there."""
        group = retrier.group
        dead = amqp.dead_message(message, group, error, attempts)
        await until_available(
            lambda: dlx.publish(dead, routing_key=amqp.queue_name(group), mandatory=False),
            stop=retrier.stop, what=f"bus group {group}: its dead-letter queue",
            pause=self._pause,
        )  # fmt: skip
        await _settle(message.ack())
        CONSUMER_DELIVERIES.labels(group, "dead_lettered").inc()
        log.error("event dead-lettered", group=group, message_id=message.message_id, error=error)

    async def run_publisher(self, *, stop: asyncio.Event) -> None:
        """Relay the event store to the exchange until ``stop`` is set (one active publisher)."""
        await self._publisher.run(stop)

    async def dead_letters(self, group: str | None = None) -> list[DeadLetter]:
        """Peek at the DLQ of ``group`` (or of every group that ever consumed), leaving it."""
        found: list[DeadLetter] = []
        for name in await self._named(group):
            async with held_messages(self._connection, amqp.dlq_name(name)) as held:
                found += [amqp.dead_letter_of(message, name) for message in held]
        return sorted(found, key=lambda dead: dead.dead_lettered_at)

    async def replay(self, dead_letter_id: str) -> bool:
        """Republish the dead letter to its group's queue (delivery count from zero), then
        remove it from the DLQ."""
        return await self._take(dead_letter_id, replay=True)

    async def discard(self, dead_letter_id: str) -> bool:
        return await self._take(dead_letter_id, replay=False)

    async def purge(self, group: str | None = None) -> int:
        dropped = 0
        for name in await self._named(group):
            dropped += await purge_queue(self._connection, amqp.dlq_name(name))
        return dropped

    async def _named(self, group: str | None) -> list[str]:
        return [group] if group is not None else await self._groups.groups()

    async def _take(self, dead_letter_id: str, *, replay: bool) -> bool:
        for name in await self._named(None):
            async with held_messages(self._connection, amqp.dlq_name(name)) as held:
                for message in held:
                    if amqp.dead_letter_id(message, name) != dead_letter_id:
                        continue
                    if replay:
                        await self._republish(name, amqp.replayed_message(message))
                    await message.ack()
                    return True
        return False

    async def _republish(self, group: str, message: aio_pika.Message) -> None:
        channel = await self._connection.channel(publisher_confirms=True)
        try:
            await channel.default_exchange.publish(message, routing_key=amqp.queue_name(group))
        finally:
            await channel.close()

    async def ping(self) -> None:
        """A channel opened and closed: the broker is there and takes work."""
        channel = await self._connection.channel()
        await channel.close()

    async def close(self) -> None:
        await self._leases.close()
        await self._engine.dispose()
        await self._connection.close()


async def _next(
    arrived: asyncio.Queue[AbstractIncomingMessage], stop: asyncio.Event
) -> AbstractIncomingMessage | None:
    """The next message, or None once ``stop`` is set."""
    if stop.is_set():
        return None
    getting = asyncio.ensure_future(arrived.get())
    await first_of(getting, asyncio.ensure_future(stop.wait()))
    if getting.cancelled() or stop.is_set():
        return None
    return getting.result()


async def _settle(settling: asyncio.Future[object] | object) -> None:
    """Ack/nack; after a reconnect the delivery tag is stale and the broker redelivers anyway."""
    try:
        await settling  # type: ignore[misc]
    except (aio_pika.exceptions.AMQPError, RuntimeError) as error:
        log.warning("could not settle a message; it will be redelivered", error=repr(error))
