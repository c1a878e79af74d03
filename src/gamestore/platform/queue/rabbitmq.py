"""RabbitMQ work queue: a durable quorum queue, a delay queue for backoff, a dead-letter queue.

Per queue ``q``: ``q`` is a quorum queue with ``x-delivery-limit`` whose dead-letter exchange
``q.dlx`` routes to the classic queue ``q.dlq``; ``q.retry`` has no consumer and dead-letters
expired messages back to ``q``. A failed delivery is republished to ``q.retry`` with a
per-message TTL equal to the backoff (and its attempt count and error in headers), then acked.
A consumer that dies before acking gets its deliveries requeued by the broker; the delivery
limit dead-letters a message that keeps killing its consumers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from pamqp.common import FieldTable

from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.faults import DEFAULT_PAUSE, Pause
from gamestore.platform.logs import current_correlation, get_logger
from gamestore.platform.queue import amqp_codec as codec
from gamestore.platform.queue.amqp_codec import Topology
from gamestore.platform.queue.model import DEFAULT_POLICY, Handler, RetryPolicy
from gamestore.platform.queue.rabbitmq_consumer import RabbitConsumer
from gamestore.platform.queue.rabbitmq_dlq import DeadLetterBrowser
from gamestore.platform.tracing import current_traceparent

log = get_logger("queue.rabbitmq")

DEFAULT_DELIVERY_LIMIT = 5  # broker-side redeliveries (crashes) before a message is dead-lettered
QUORUM_DEAD_LETTERING = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def split_url(url: str) -> tuple[str, list[str]]:
    """The broker URL without our ``queues=`` parameter, and the queue names it listed."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query)
    queues = [name for key, value in params if key == "queues" for name in value.split(",") if name]
    rest = urlencode([(key, value) for key, value in params if key != "queues"])
    return parts._replace(query=rest).geturl(), queues


class RabbitWorkQueue:
    """The :class:`~gamestore.platform.queue.model.WorkQueue` port over RabbitMQ.

    Enqueue is *not* idempotent on ``message_id`` here (a broker has no index of ids): handlers
    dedupe by ``Message.id``, which every adapter already requires for at-least-once delivery.
    """

    def __init__(
        self,
        connection: AbstractRobustConnection,
        channel: AbstractChannel,
        *,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        known_queues: tuple[str, ...] = (),
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        self.connection = connection
        self.pause = pause  # between tries while a handler's dependency is away
        self._channel = channel  # publisher confirms: publish() returns once the broker has it
        self.delivery_limit = delivery_limit
        self._declared: set[str] = set()
        self._declaring = asyncio.Lock()
        self.known_queues: set[str] = set(known_queues)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        known_queues: tuple[str, ...] = (),
        pause: Pause = DEFAULT_PAUSE,
    ) -> RabbitWorkQueue:
        """Connect (robustly: the client reconnects and redeclares after a broker restart)."""
        broker_url, listed = split_url(url)
        connection = await aio_pika.connect_robust(broker_url)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        known = (*known_queues, *listed)
        return cls(
            connection, channel, delivery_limit=delivery_limit, known_queues=known, pause=pause
        )

    async def declare(self, channel: AbstractChannel, queue: str) -> AbstractQueue:
        """Declare the queue, its delay queue and its DLQ (idempotent on the broker)."""
        names = Topology(queue)
        dlx = await channel.declare_exchange(names.dlx, aio_pika.ExchangeType.DIRECT, durable=True)
        dlq = await channel.declare_queue(names.dlq, durable=True)
        await dlq.bind(dlx, routing_key=names.dlq)
        retry_args: FieldTable = {"x-queue-type": "quorum", **QUORUM_DEAD_LETTERING}
        retry_args |= {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue}
        await channel.declare_queue(names.retry, durable=True, arguments=retry_args)
        work_args: FieldTable = {"x-queue-type": "quorum", "x-delivery-limit": self.delivery_limit}
        work_args |= {"x-dead-letter-exchange": names.dlx, "x-dead-letter-routing-key": names.dlq}
        work_args |= QUORUM_DEAD_LETTERING
        work = await channel.declare_queue(queue, durable=True, arguments=work_args)
        self._declared.add(queue)
        self.known_queues.add(queue)
        return work

    async def _ensure_declared(self, queue: str) -> None:
        if queue in self._declared:
            return
        async with self._declaring:
            if queue not in self._declared:
                await self.declare(self._channel, queue)

    async def publish(self, routing_key: str, message: codec.Outgoing) -> None:
        """Publish through the default exchange and wait for the broker's confirm.

        Unroutable (``mandatory``) or nacked publishes raise: nothing is silently dropped.
        """
        channel = await self._channel.get_underlay_channel()
        await channel.basic_publish(
            message.body, routing_key=routing_key, properties=message.properties, mandatory=True
        )

    async def enqueue(
        self,
        queue: str,
        body: Mapping[str, Any],
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Publish a persistent message and wait for the confirm (not deduplicated by id)."""
        await self._ensure_declared(queue)
        mid = message_id or str(uuid.uuid4())
        corr = correlation_id or current_correlation()
        headers = {codec.ATTEMPTS: 0, codec.ENQUEUED_AT: codec.stamp()}
        if traceparent := current_traceparent():
            headers[codec.TRACEPARENT] = traceparent
        await self.publish(queue, codec.encode(body, mid, corr, headers))
        return mid

    async def consume(
        self,
        queue: str,
        handler: Handler,
        *,
        stop: asyncio.Event,
        policy: RetryPolicy = DEFAULT_POLICY,
        concurrency: int = 1,
    ) -> None:
        """Handle messages until ``stop`` is set; prefetch = ``concurrency``."""
        # Declared once through the lock first: a consume racing the first declaration of a new
        # quorum queue can reach it before its Raft member runs, which kills the connection.
        await self._ensure_declared(queue)
        channel = await self.connection.channel()
        try:
            await channel.set_qos(prefetch_count=concurrency)
            work = await self.declare(channel, queue)
            consumer = RabbitConsumer(self, queue, handler, policy, self.pause)
            await consumer.run(work, stop)
        finally:
            await channel.close()

    async def retry(
        self, incoming: AbstractIncomingMessage, queue: str, attempts: int, delay: float, error: str
    ) -> None:
        """Park a failed delivery in the delay queue for ``delay`` seconds, then ack it."""
        headers = {codec.ATTEMPTS: attempts, codec.LAST_ERROR: error}
        message = codec.forward(incoming, headers, expiration=max(delay, 0.001))
        await self.publish(Topology(queue).retry, message)
        await incoming.ack()

    async def dead_letter(
        self, incoming: AbstractIncomingMessage, queue: str, attempts: int, error: str
    ) -> None:
        """Publish a delivery to the DLQ with its last error, then ack it."""
        headers = {
            codec.ATTEMPTS: attempts,
            codec.LAST_ERROR: error,
            codec.QUEUE: queue,
            codec.DEAD_LETTERED_AT: codec.stamp(),
        }
        await self.publish(Topology(queue).dlq, codec.forward(incoming, headers))
        await incoming.ack()

    def _browser(self) -> DeadLetterBrowser:
        return DeadLetterBrowser(self.connection, self._republish)

    async def _republish(self, queue: str, message: codec.Outgoing) -> None:
        await self._ensure_declared(queue)
        await self.publish(queue, message)

    def _queues(self, queue: str | None) -> list[str]:
        return [queue] if queue is not None else sorted(self.known_queues)

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        """Dead letters of ``queue`` (or of every known queue), in DLQ order; nothing is taken."""
        found: list[DeadLetter] = []
        for name in self._queues(queue):
            found += await self._browser().list(name)
        return found

    async def replay(self, dead_letter_id: str) -> bool:
        """Republish the dead letter whose message id is ``dead_letter_id``, attempts reset."""
        for name in self._queues(None):
            if await self._browser().take(name, dead_letter_id, replay=True):
                return True
        return False

    async def discard(self, dead_letter_id: str) -> bool:
        """Drop the dead letter whose message id is ``dead_letter_id``."""
        for name in self._queues(None):
            if await self._browser().take(name, dead_letter_id, replay=False):
                return True
        return False

    async def purge(self, queue: str | None = None) -> int:
        """Drop dead letters (of one queue, or of every known queue); returns how many."""
        total = 0
        for name in self._queues(queue):
            total += await self._browser().purge(name)
        return total

    async def pending(self, queue: str) -> int:
        """Messages ready in the queue or waiting in its delay queue (unacked ones not counted)."""
        names = Topology(queue)
        channel = await self.connection.channel()
        try:
            total = 0
            for name in (names.queue, names.retry):
                declared = await channel.declare_queue(name, passive=True)
                total += declared.declaration_result.message_count or 0
            return total
        finally:
            await channel.close()

    async def drop(self, queue: str) -> None:
        """Delete the queue, its delay queue, its DLQ and its exchange (tests, teardown)."""
        names = Topology(queue)
        channel = await self.connection.channel()
        try:
            for name in (names.queue, names.retry, names.dlq):
                await channel.queue_delete(name)
            await channel.exchange_delete(names.dlx)
        finally:
            await channel.close()
        self._declared.discard(queue)
        self.known_queues.discard(queue)

    async def oldest_age(self, queue: str) -> float | None:
        return None  # AMQP tells how many messages wait, not since when

    async def ping(self) -> None:
        channel = await self.connection.channel()
        await channel.close()

    async def close(self) -> None:
        await self.connection.close()
