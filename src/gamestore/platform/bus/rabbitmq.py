"""The RabbitMQ bus: a durable topic exchange, one durable quorum queue per consumer group.

The publisher (``run_publisher``) relays the event store's global log onto the exchange with
publisher confirms. ``consume`` acks a message only after the handler returned; a handler that
raises is retried (requeued after a backoff) and, after ``max_attempts``, copied to the group's
``.dlq`` with its error. Quorum queues do not keep strict order once a message is redelivered:
handlers must be idempotent (the inbox) and compare versions.
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
from gamestore.platform.bus.delivery import (
    Backoff,
    attempt,
    attempt_batch,
    log,
)
from gamestore.platform.bus.lease import close_leases, leases_for
from gamestore.platform.bus.model import BatchHandler, EventHandler, one_at_a_time
from gamestore.platform.bus.publisher import Publisher
from gamestore.platform.eventstore import EventStore
from gamestore.platform.queue.model import DeadLetter
from gamestore.platform.waiting import wait_event


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
        standby_poll: float = 0.5,
        lease_ttl: float = 10.0,
    ) -> None:
        self._connection = connection
        self._exchange = exchange
        self._prefetch = prefetch
        self._backoff = backoff or Backoff()
        self._groups: set[str] = set()
        self._leases = leases_for(store_url, ttl=lease_ttl, poll=standby_poll)
        self._publisher = Publisher(connection, store, exchange, self._leases)

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
        self._groups.add(group)
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
        """Consume the group's queue; with ``pages``, what has arrived goes to it in pages."""
        channel = await self._connection.channel()
        try:
            await channel.set_qos(prefetch_count=self._prefetch)
            queue = await self.declare(channel, group, types, max_attempts)
            dlx = await channel.get_exchange(amqp.dlx_name(self._exchange))
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(arrived.put)
            while (message := await _next(arrived, stop)) is not None:
                page = [message]
                while pages is not None and len(page) < self._prefetch and not arrived.empty():
                    page.append(arrived.get_nowait())
                if len(page) > 1 and pages is not None and await self._page(group, page, pages):
                    continue
                for each in page:
                    await self._handle(dlx, group, each, one, stop, max_attempts)
        finally:
            with suppress(Exception):  # closing returns every unacked message to the queue
                await channel.close()

    async def _page(
        self, group: str, page: list[AbstractIncomingMessage], handler: BatchHandler
    ) -> bool:
        """One call for the whole page, then every ack; False (nothing settled) if it failed."""
        try:
            events = [amqp.event_of(message) for message in page]
        except (ValueError, KeyError, TypeError):
            return False  # a malformed one among them: one at a time dead-letters it
        if await attempt_batch(group, handler, events, 1) is not None:
            return False
        for message in page:
            await _settle(message.ack())
        return True

    async def _handle(
        self,
        dlx: AbstractExchange,
        group: str,
        message: AbstractIncomingMessage,
        handler: EventHandler,
        stop: asyncio.Event,
        max_attempts: int,
    ) -> None:
        number = amqp.attempts_of(message)
        try:
            event = amqp.event_of(message)
        except (ValueError, KeyError, TypeError) as malformed:
            await self._dead_letter(dlx, group, message, f"malformed event: {malformed!r}", number)
            return
        failure = await attempt(group, handler, event, number)
        if failure is None:
            await _settle(message.ack())
        elif number >= max_attempts:
            await self._dead_letter(dlx, group, message, failure, number)
        else:
            await wait_event(stop, self._backoff.delay(number))
            await _settle(message.nack(requeue=True))

    async def _dead_letter(
        self,
        dlx: AbstractExchange,
        group: str,
        message: AbstractIncomingMessage,
        error: str,
        attempts: int,
    ) -> None:
        """Copy to the DLQ (confirmed), then ack: a crash in between leaves a duplicate there."""
        dead = amqp.dead_message(message, group, error, attempts)
        await dlx.publish(dead, routing_key=amqp.queue_name(group), mandatory=False)
        await _settle(message.ack())
        log.error("event dead-lettered", group=group, message_id=message.message_id, error=error)

    async def run_publisher(self, *, stop: asyncio.Event) -> None:
        """Relay the event store to the exchange until ``stop`` is set (one active publisher)."""
        await self._publisher.run(stop)

    async def dead_letters(self, group: str | None = None) -> list[DeadLetter]:
        """Peek at the DLQ of ``group`` (or of every group this bus declared), leaving it intact."""
        groups = [group] if group is not None else sorted(self._groups)
        found: list[DeadLetter] = []
        for name in groups:
            found.extend(await self._peek_dlq(name))
        return sorted(found, key=lambda dead: dead.dead_lettered_at)

    async def _peek_dlq(self, group: str) -> list[DeadLetter]:
        channel = await self._connection.channel()
        try:
            try:
                dlq = await channel.get_queue(amqp.dlq_name(group), ensure=True)
            except aio_pika.exceptions.ChannelClosed:
                return []  # the group never ran here: no DLQ yet
            found = []
            while (message := await dlq.get(no_ack=False, fail=False)) is not None:
                found.append(amqp.dead_letter_of(message, group))
            return found
        finally:
            with suppress(Exception):  # closing requeues what we only looked at
                await channel.close()

    async def close(self) -> None:
        await close_leases(self._leases)
        await self._connection.close()


async def _next(
    arrived: asyncio.Queue[AbstractIncomingMessage], stop: asyncio.Event
) -> AbstractIncomingMessage | None:
    """The next message, or None once ``stop`` is set."""
    if stop.is_set():
        return None
    getting = asyncio.ensure_future(arrived.get())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([getting, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if getting.done() and not stop.is_set():
        return getting.result()
    getting.cancel()
    return None


async def _settle(settling: asyncio.Future[object] | object) -> None:
    """Ack/nack; after a reconnect the delivery tag is stale and the broker redelivers anyway."""
    try:
        await settling  # type: ignore[misc]
    except (aio_pika.exceptions.AMQPError, RuntimeError) as error:
        log.warning("could not settle a message; it will be redelivered", error=repr(error))
