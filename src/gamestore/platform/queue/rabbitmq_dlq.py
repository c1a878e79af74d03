"""Browsing a RabbitMQ dead-letter queue without consuming it.

A queue cannot be read in place, so listing gets every message unacked (``basic.get``) and then
returns them all with one ``nack(multiple, requeue)``; the DLQ is a classic queue, which puts
requeued messages back in their original positions (order stays stable) and keeps no delivery
count that repeated listing could exhaust. While a listing runs its messages are briefly
invisible to a concurrent listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.queue import amqp_codec as codec
from gamestore.platform.queue.amqp_codec import Topology

Republish = Callable[[str, codec.Outgoing], Awaitable[None]]


@asynccontextmanager
async def held_messages(
    connection: AbstractRobustConnection, dlq_name: str
) -> AsyncIterator[list[AbstractIncomingMessage]]:
    """Every message of the queue ``dlq_name``, held unacked (none if it does not exist);
    whatever the block did not ack goes back at the end."""
    channel: AbstractChannel = await connection.channel()
    held: list[AbstractIncomingMessage] = []
    try:
        try:
            dlq = await channel.declare_queue(dlq_name, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            yield held
            return
        count = dlq.declaration_result.message_count or 0
        while len(held) < count:
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                break
            held.append(message)
        yield held
        unsettled = [message for message in held if not message.processed]
        if unsettled:
            await unsettled[-1].nack(multiple=True, requeue=True)
    finally:
        if not channel.is_closed:
            await channel.close()


async def purge_queue(connection: AbstractRobustConnection, name: str) -> int:
    """Drop every message of the queue ``name`` (0 if it does not exist); how many went."""
    channel = await connection.channel()
    try:
        dlq = await channel.declare_queue(name, passive=True)
        result = await dlq.purge()
        return int(result.message_count or 0)
    except aio_pika.exceptions.ChannelNotFoundEntity:
        return 0
    finally:
        if not channel.is_closed:
            await channel.close()


class DeadLetterBrowser:
    """List, take (replay or discard) and purge the DLQ of one queue."""

    def __init__(self, connection: AbstractRobustConnection, republish: Republish) -> None:
        self.connection = connection
        self.republish = republish

    def _held(self, queue: str) -> AbstractAsyncContextManager[list[AbstractIncomingMessage]]:
        return held_messages(self.connection, Topology(queue).dlq)

    async def list(self, queue: str) -> list[DeadLetter]:
        async with self._held(queue) as held:
            return [codec.dead_letter_of(message, queue) for message in held]

    async def take(self, queue: str, message_id: str, *, replay: bool) -> bool:
        """Remove one dead letter by message id; with ``replay`` put it back on its queue first."""
        async with self._held(queue) as held:
            for message in held:
                if message.message_id != message_id:
                    continue
                if replay:
                    target = codec.dead_letter_of(message, queue).queue
                    fresh = {codec.ATTEMPTS: 0, codec.ENQUEUED_AT: codec.stamp()}
                    await self.republish(target, codec.forward(message, fresh))
                await message.ack()
                return True
        return False

    async def purge(self, queue: str) -> int:
        return await purge_queue(self.connection, Topology(queue).dlq)
