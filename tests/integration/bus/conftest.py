"""The bus under test, once per adapter: embedded on SQLite, embedded on PostgreSQL, RabbitMQ."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.bus import Backoff, EventBus, connect_bus
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, NewEvent, RecordedEvent, connect
from tests.conftest import AMQP_URL, fresh_postgres_database, require
from tests.integration.bus.support import (
    create_consumer_schema,
    delete_rabbit_topology,
    wait_for_rabbit_consumer,
)

KINDS = ["embedded-sqlite", "embedded-postgres", "rabbitmq"]
FAST: dict[str, Any] = {"backoff": Backoff(base_delay=0.01, max_delay=0.05), "standby_poll": 0.05}


@dataclass
class World:
    """An event store, a way to open (and re-open) buses on it, and a consumer database."""

    kind: str
    store: EventStore
    store_url: str
    consumer_db: AsyncEngine
    consumer_db_url: str
    unique: str
    options: dict[str, Any]
    bus_url: str = "embedded"
    groups: list[str] = field(default_factory=list)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    def group(self, name: str) -> str:
        """A consumer group name unique to this test (RabbitMQ queues outlive it)."""
        group = f"{name}-{self.unique}"
        self.groups.append(group)
        return group

    async def open_bus(self) -> EventBus:
        """A new bus, as a freshly started process would open it."""
        store = await connect(self.store_url)
        self.stack.push_async_callback(store.close)
        bus = await connect_bus(self.bus_url, store, **self.options)
        self.stack.push_async_callback(bus.close)
        return bus

    async def ready(self, group: str) -> None:
        """Until events appended now will reach ``group`` (RabbitMQ: its queue is bound)."""
        if self.kind == "rabbitmq":
            await wait_for_rabbit_consumer(self.bus_url, f"gamestore.{group}")

    async def append(self, types: list[str], stream: str = "s") -> list[RecordedEvent]:
        recorded = []
        for n, event_type in enumerate(types):
            recorded += await self.store.append(
                f"{stream}-{n % 3}-{self.unique}", [NewEvent(type=event_type, data={"n": n})]
            )
        return recorded


async def _store_url(kind: str, tmp_path: Path, stack: AsyncExitStack) -> str:
    if kind == "embedded-postgres":
        return await stack.enter_async_context(fresh_postgres_database())
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture(params=KINDS)
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[World]:
    async with AsyncExitStack() as outer:
        store_url = await _store_url(request.param, tmp_path, outer)
        store = await connect(store_url)
        outer.push_async_callback(store.close)
        consumer_db_url = f"sqlite:///{tmp_path / 'consumer.db'}"
        consumer_db = create_engine(consumer_db_url)
        outer.push_async_callback(consumer_db.dispose)
        await create_consumer_schema(consumer_db)
        world = World(
            request.param, store, store_url, consumer_db, consumer_db_url, unique, dict(FAST)
        )
        if request.param == "rabbitmq":
            require("RabbitMQ", AMQP_URL, 5672)
            world.bus_url = AMQP_URL
            world.options["exchange"] = f"gs-test-{unique}"
            exchange = f"gs-test-{unique}"
            outer.push_async_callback(delete_rabbit_topology, AMQP_URL, exchange, world.groups)
            await _run_publisher(world)
        else:
            world.options["lease_ttl"] = 2.0
        async with world.stack:
            yield world


async def _run_publisher(world: World) -> None:
    """The relay from the store to RabbitMQ runs for the whole test, like its own process."""
    publisher = await world.open_bus()
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run_publisher(stop=stop))

    async def stop_publisher() -> None:
        stop.set()
        await asyncio.wait_for(task, 5)

    world.stack.push_async_callback(stop_publisher)
