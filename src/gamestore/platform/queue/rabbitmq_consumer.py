"""The RabbitMQ consume loop: manual ack after the handler, retries through the delay queue.

An outage (``platform.faults``) is never an attempt: the handler is called again with the same
delivery after a pause, the message held unacked, for as long as the outage lasts. Told to stop
meanwhile, the consumer parks it in the delay queue with its attempt count unchanged (a plain
requeue would raise the broker's delivery count toward the delivery limit).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from gamestore.platform.faults import (
    DEFAULT_PAUSE,
    Pause,
    Stopped,
    until_available,
)
from gamestore.platform.health import HEALTH, Heartbeat
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.metrics import QUEUE_MESSAGES
from gamestore.platform.queue import amqp_codec as codec
from gamestore.platform.queue.handling import call_through_outages
from gamestore.platform.queue.model import Handler, Message, RetryPolicy

log = get_logger("queue.rabbitmq")


class Settler(Protocol):
    async def retry(
        self, incoming: AbstractIncomingMessage, queue: str, attempts: int, delay: float, error: str
    ) -> None: ...

    async def dead_letter(
        self, incoming: AbstractIncomingMessage, queue: str, attempts: int, error: str
    ) -> None: ...


class RabbitConsumer:
    """Handles the deliveries of one queue; the channel's prefetch bounds the concurrency."""

    def __init__(
        self,
        settler: Settler,
        queue: str,
        handler: Handler,
        policy: RetryPolicy,
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        self.settler = settler
        self.queue = queue
        self.handler = handler
        self.policy = policy
        self.pause = pause
        self._running: set[asyncio.Task[object]] = set()
        self._stop = asyncio.Event()
        self._beat = Heartbeat(f"queue {queue}")

    async def run(self, work: AbstractQueue, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; then cancel the subscription and let handlers finish.

        Cancelled instead (the process is going down), handlers are cancelled unacked and the
        broker redelivers their messages when the channel closes.
        """
        self._stop = stop
        tag = await work.consume(self._on_delivery)
        try:
            with HEALTH.loop(f"queue {self.queue}") as self._beat:
                await stop.wait()
                await work.cancel(tag)
                while self._running:
                    await asyncio.wait(set(self._running))
        finally:
            for task in self._running:
                task.cancel()

    async def _on_delivery(self, incoming: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            await self._handle(incoming)
        finally:
            self._running.discard(task)

    async def _handle(self, incoming: AbstractIncomingMessage) -> None:
        try:
            message = codec.decode(incoming, self.queue)
        except ValueError as error:
            attempts = codec.attempts_of(incoming)
            await self._settle(incoming, attempts, f"undecodable message: {error}", permanent=True)
            return
        # Stopped while parking it through an outage: unacked, the broker redelivers it.
        with correlation(message.correlation_id), contextlib.suppress(Stopped):
            await self._handle_message(incoming, message)

    async def _handle_message(self, incoming: AbstractIncomingMessage, message: Message) -> None:
        if message.attempts > self.policy.max_attempts:
            error = codec.last_error(incoming) or "redelivered without an ack (consumer crashed?)"
            await self._settle(incoming, message.attempts, error, permanent=True)
            return
        done = await call_through_outages(
            self.handler, message,
            queue=self.queue, stop=self._stop, pause=self.pause, beat=self._beat,
        )  # fmt: skip
        if done.stopped:
            await self._park(incoming, message, done.error)
        elif not done.ok:
            await self._settle(incoming, message.attempts, done.error, permanent=done.permanent)
        else:
            await incoming.ack()
            QUEUE_MESSAGES.labels(self.queue, "handled").inc()

    async def _park(self, incoming: AbstractIncomingMessage, message: Message, error: str) -> None:
        """Stopped during an outage: back through the delay queue at once, this delivery not
        counted (the next one gets the same attempt number)."""
        await until_available(
            lambda: self.settler.retry(incoming, self.queue, message.attempts - 1, 0.001, error),
            stop=self._stop, what=f"queue {self.queue}: parking a message", pause=self.pause,
        )  # fmt: skip

    async def _settle(
        self, incoming: AbstractIncomingMessage, attempts: int, error: str, *, permanent: bool
    ) -> None:
        mid = incoming.message_id
        try:
            if permanent or attempts >= self.policy.max_attempts:
                log.error("dead-lettering message", message_id=mid, attempts=attempts, error=error)
                await self.settler.dead_letter(incoming, self.queue, attempts, error)
                QUEUE_MESSAGES.labels(self.queue, "dead_lettered").inc()
                return
            delay = self.policy.delay(attempts)
            log.warning("handler failed; retrying", message_id=mid, attempts=attempts, error=error)
            await self.settler.retry(incoming, self.queue, attempts, delay, error)
            QUEUE_MESSAGES.labels(self.queue, "retried").inc()
        except Exception:
            # Could not park it: hand it back; the redelivery counts toward the delivery limit.
            log.exception("could not settle message; requeueing", message_id=mid)
            with contextlib.suppress(Exception):
                await incoming.nack(requeue=True)
