"""The RabbitMQ publisher moves its checkpoint at most every ``CHECKPOINT_EVERY`` seconds under
load, not once per confirmed batch, and never leaves it behind once idle or stopped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from gamestore.platform.bus import amqp, connect_bus
from gamestore.platform.bus.publisher import CHECKPOINT, CHECKPOINT_EVERY
from gamestore.platform.eventstore import EventStore, NewEvent, connect
from tests.conftest import AMQP_URL, require
from tests.integration.bus.support import delete_rabbit_topology


@contextlib.asynccontextmanager
async def _watching(exchange: str) -> AsyncIterator[list[int]]:
    """The positions published to ``exchange`` from now on (a queue of the test's own)."""
    connection = await aio_pika.connect(AMQP_URL)
    published: list[int] = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="#")

        async def seen(message: AbstractIncomingMessage) -> None:
            published.append(amqp.event_of(message).position)
            await message.ack()

        await queue.consume(seen)
        yield published
    finally:
        await connection.close()


class CountingStore:
    """The real store, counting the publisher's checkpoint writes."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.saves: list[int] = []

    async def save_checkpoint(self, name: str, position: int) -> None:
        if name == CHECKPOINT:
            self.saves.append(position)
        await self._store.save_checkpoint(name, position)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_the_checkpoint_follows_at_its_own_pace_and_catches_up(
    tmp_path: Path, unique: str
) -> None:
    require("RabbitMQ", AMQP_URL, 5672)
    store = await connect(f"sqlite:///{tmp_path / 'events.db'}")
    counting = CountingStore(store)
    exchange = f"gs-test-{unique}"
    bus = await connect_bus(AMQP_URL, counting, exchange=exchange)  # type: ignore[arg-type]
    stop = asyncio.Event()
    publisher = asyncio.create_task(bus.run_publisher(stop=stop))
    try:
        started = time.monotonic()
        for n in range(60):  # one append every ~10 ms: a publish cycle each
            await store.append(f"s-{n % 3}", [NewEvent("A", {"n": n})])
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 10
        while await store.load_checkpoint(CHECKPOINT) < 60:  # idle: it catches up
            assert time.monotonic() < deadline, "the checkpoint stayed behind"
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        assert len(counting.saves) <= elapsed / CHECKPOINT_EVERY + 2, counting.saves
        assert counting.saves == sorted(counting.saves)
        async with _watching(exchange) as published:
            for n in range(60, 64):  # a burst, stopped as soon as the broker has it all
                await store.append("s-0", [NewEvent("A", {"n": n})])
            while len(published) < 4:
                assert time.monotonic() < deadline + 10, f"published only {published}"
                await asyncio.sleep(0.005)
            stop.set()
            await asyncio.wait_for(publisher, 10)
    finally:
        stop.set()
        await asyncio.wait_for(publisher, 10)
        await bus.close()
        await delete_rabbit_topology(AMQP_URL, exchange, [])
    assert await store.load_checkpoint(CHECKPOINT) == 64  # published, then saved on the way out
    await store.close()
