"""A consumer's side of the bus tests: an effect table, a delivery log, the inbox; and helpers
shared by the tests and their crash child."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.bus import EventBus, EventHandler
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.inbox import idempotent, inbox_table
from gamestore.platform.uow import NO_RELAY

metadata = MetaData()
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),  # NOT unique: a double effect would show
)
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
)
inbox_table(metadata)


async def create_consumer_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def apply_effect(conn: AsyncConnection, event: RecordedEvent) -> None:
    await conn.execute(effects.insert().values(event_id=str(event.event_id)))


def logged_idempotent(engine: AsyncEngine, consumer: str) -> EventHandler:
    """The inbox-wrapped effect, with every delivery logged first in its own transaction."""
    handle = idempotent(engine, consumer, apply_effect, on_commit=NO_RELAY)

    async def log_then_handle(event: RecordedEvent) -> None:
        async with engine.begin() as conn:
            await conn.execute(deliveries.insert().values(event_id=str(event.event_id)))
        await handle(event)

    return log_then_handle


async def counts(engine: AsyncEngine, table: Table) -> dict[str, int]:
    """How many rows each event id has in ``table``."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(table.c.event_id, func.count()).group_by(table.c.event_id))
        return {event_id: n for event_id, n in rows.all()}


async def eventually(
    condition: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Recorder:
    """A handler that remembers what it saw (and when), optionally failing on some events."""

    seen: list[RecordedEvent] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    fail_on: set[int] = field(default_factory=set)  # the ``n`` of events to fail on

    async def __call__(self, event: RecordedEvent) -> None:
        self.started.append(time.perf_counter())
        self.seen.append(event)
        if event.data["n"] in self.fail_on:
            raise RuntimeError(f"cannot handle {event.event_id}")

    def ids(self) -> list[str]:
        return [str(e.event_id) for e in self.seen]


@dataclass
class Running:
    """A consumer task and the event that stops it."""

    task: asyncio.Task[None]
    stop: asyncio.Event

    async def stop_within(self, seconds: float = 2.0) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, seconds)


def start(
    bus: EventBus, group: str, types: set[str], handler: EventHandler, max_attempts: int = 3
) -> Running:
    stop = asyncio.Event()
    task = asyncio.create_task(
        bus.consume(group, types, handler, stop=stop, max_attempts=max_attempts)
    )
    return Running(task, stop)


async def wait_for_rabbit_consumer(amqp_url: str, queue: str, within: float = 10.0) -> None:
    """Until ``queue`` exists with a consumer (its bindings are made before it consumes)."""
    connection = await aio_pika.connect(amqp_url)
    try:

        async def has_consumer() -> bool:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            count = declared.declaration_result.consumer_count
            await channel.close()
            return bool(count and count > 0)

        await eventually(has_consumer, within, f"a consumer on {queue}")
    finally:
        await connection.close()


async def delete_rabbit_topology(amqp_url: str, exchange: str, groups: list[str]) -> None:
    """Remove what a test declared, so runs do not pile up queues and exchanges."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for group in groups:
            for name in (f"gamestore.{group}", f"gamestore.{group}.dlq"):
                await channel.queue_delete(name)
        for name in (exchange, f"{exchange}.dlx"):
            await channel.exchange_delete(name)
    finally:
        await connection.close()
