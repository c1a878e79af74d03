"""The relay from the event store to the RabbitMQ exchange.

Reads the global log after the ``rabbitmq-publisher`` checkpoint, publishes a batch with
publisher confirms and moves the checkpoint (at most every ``CHECKPOINT_EVERY`` seconds) only
past batches the broker confirmed whole. A crash in between republishes what was confirmed
since the checkpoint: consumers deduplicate by message id (the event id).
One publisher is active at a time (the same lease as consumer groups). An outage of the event
store's database (its lease, its reads, its checkpoint) or of the broker is waited out: the
publisher never exits because an engine is away, it resumes from its checkpoint.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection

from gamestore.platform.bus import amqp
from gamestore.platform.bus.delivery import log, wait_for_news
from gamestore.platform.bus.lease import Lease, Leases
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.faults import (
    DEFAULT_PAUSE,
    OutageLog,
    Pause,
    is_transient,
    run_through_outages,
)
from gamestore.platform.health import HEALTH

CHECKPOINT = "rabbitmq-publisher"
# The checkpoint is written at most this often (and when the publisher idles or stops), not
# after every confirmed batch: under load, one commit per batch doubled the serial waits of
# each cycle. A crash republishes what was confirmed since, which consumers deduplicate.
CHECKPOINT_EVERY = 0.25


class Publisher:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        store: EventStore,
        exchange: str,
        leases: Leases,
        *,
        batch_size: int = 200,
        idle_timeout: float = 1.0,
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        self._connection = connection
        self._store = store
        self._exchange = exchange
        self._leases = leases
        self._batch_size = batch_size
        self._idle_timeout = idle_timeout
        self._pause = pause

    async def run(self, stop: asyncio.Event) -> None:
        """Hold the publisher lease and relay until ``stop``; an outage is waited out."""
        outage = OutageLog("bus publisher: the event store or the broker")

        async def turn() -> None:
            async with self._leases.hold(CHECKPOINT, stop) as lease:
                if lease is not None:
                    await self._relay(stop, lease, outage)

        await run_through_outages(
            turn, stop=stop, outage=outage, pause=self._pause, transient=_outage
        )

    async def _relay(self, stop: asyncio.Event, lease: Lease, outage: OutageLog) -> None:
        channel = await self._connection.channel(publisher_confirms=True)
        try:
            exchange = await channel.declare_exchange(
                self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            position = saved = await self._store.load_checkpoint(CHECKPOINT)
            outage.recovered()
            log.info("publisher active", exchange=self._exchange, position=position)
            due = time.monotonic()
            while not (stop.is_set() or lease.lost.is_set()):
                events = await self._store.read_all(position, self._batch_size)
                if events:
                    await _publish_confirmed(exchange, events)
                    position = events[-1].position
                if position != saved and time.monotonic() >= due:
                    await self._store.save_checkpoint(CHECKPOINT, position)
                    saved, due = position, time.monotonic() + CHECKPOINT_EVERY
                if len(events) < self._batch_size:
                    idle = self._idle_timeout if position == saved else CHECKPOINT_EVERY
                    await wait_for_news(self._store, position, idle, stop, lease.lost)
            if position != saved:  # stopping, or the lease went to another publisher
                await self._store.save_checkpoint(CHECKPOINT, position)
        finally:
            with suppress(Exception):  # a channel the broker already closed
                await channel.close()


def _outage(error: BaseException) -> bool:
    """An outage, or broker trouble: aio-pika also says "closed" with a plain RuntimeError
    while it reconnects."""
    return is_transient(error) or isinstance(error, aio_pika.exceptions.AMQPError | RuntimeError)


async def _publish_confirmed(exchange: AbstractExchange, events: list[RecordedEvent]) -> None:
    """Publish in log order and wait until the broker confirmed every message."""
    await asyncio.gather(
        *(
            exchange.publish(amqp.event_message(e), routing_key=e.type, mandatory=False)
            for e in events
        )
    )


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``bus-publisher`` process: event store → RabbitMQ, until ``stop``."""
    from gamestore.platform.bus import connect_bus
    from gamestore.platform.eventstore import connect

    store = await connect(settings.event_store_url)
    try:
        bus = await connect_bus(settings.bus_url, store)
        try:
            log.info("publishing events", exchange="gamestore.events")
            with (
                HEALTH.depends_on("event_store", store.head),
                HEALTH.depends_on("broker", bus.ping),
            ):
                await bus.run_publisher(stop=stop)
        finally:
            await bus.close()
    finally:
        await store.close()
