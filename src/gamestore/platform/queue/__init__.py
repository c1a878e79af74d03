"""The durable work queue with retries, backoff and a dead-letter queue.

>>> queue = await connect_queue("sqlite:///data/queue.db")   # or postgresql://…, amqp://…
>>> await queue.enqueue("payments", {"payment_id": pid}, message_id=pid)
>>> await queue.consume("payments", handle, stop=stop, policy=RetryPolicy(max_attempts=5))
>>> [d.public() for d in await queue.dead_letters()]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gamestore.platform.config import scheme
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.metrics import DEAD_LETTERS, QUEUE_DEPTH, QUEUE_OLDEST_AGE
from gamestore.platform.queue.handling import describe
from gamestore.platform.queue.model import (
    Handler,
    Message,
    PermanentError,
    RetriesExhausted,
    RetryPolicy,
    WorkQueue,
)

__all__ = [
    "DeadLetter",
    "Handler",
    "Message",
    "PermanentError",
    "RetriesExhausted",
    "RetryPolicy",
    "WorkQueue",
    "connect_queue",
    "describe",
    "open_work_queue",
]

if TYPE_CHECKING:
    from gamestore.platform.config import Settings


async def connect_queue(url: str, **options: Any) -> WorkQueue:
    """Open the work queue named by ``url``.

    ``sqlite:///…`` and ``postgresql://…`` give the table-backed queue (option:
    ``lease_timeout`` seconds); ``amqp://…`` gives RabbitMQ (options: ``delivery_limit``,
    ``known_queues``; the URL may also carry ``?queues=a,b`` naming the queues whose dead
    letters ``dead_letters()`` and ``replay()`` look through when no queue is given).
    """
    kind = scheme(url)
    if kind in ("sqlite", "postgresql", "postgres"):
        from gamestore.platform.queue.table import TableWorkQueue

        return await TableWorkQueue.connect(url, **options)
    if kind in ("amqp", "amqps"):
        from gamestore.platform.queue.rabbitmq import RabbitWorkQueue

        return await RabbitWorkQueue.connect(url, **options)
    raise ValueError(
        f"no work queue adapter for {url!r} (use sqlite:///, postgresql:// or amqp://)"
    )


async def open_work_queue(settings: Settings) -> WorkQueue:
    """The payment queue ``settings`` name, with their lease timeout on a table-backed queue."""
    url = settings.work_queue_url
    if scheme(url) in ("amqp", "amqps"):
        return await connect_queue(url)
    return await connect_queue(url, lease_timeout=settings.queue_lease_seconds)


async def sample_queue(queue: WorkQueue, name: str) -> None:
    """The depth, the oldest message's age and the dead letters of queue ``name``, for a
    scrape (the oldest age stays unset where the engine cannot tell)."""
    QUEUE_DEPTH.labels(name).set(await queue.pending(name))
    if (age := await queue.oldest_age(name)) is not None:
        QUEUE_OLDEST_AGE.labels(name).set(age)
    DEAD_LETTERS.labels("queue", name).set(len(await queue.dead_letters(name)))
