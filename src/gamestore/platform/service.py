"""What every service process shares: its own database with an outbox, the event store, and
the relay between them running for as long as the service does; serving its API and running
its bus consumers as one unit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from gamestore.migrations import open_database
from gamestore.platform.bus import BatchHandler, EventBus, EventHandler, connect_bus
from gamestore.platform.bus.model import one_at_a_time
from gamestore.platform.config import EMBEDDED, SERVICE_PORTS, Settings, service_url
from gamestore.platform.db import ping
from gamestore.platform.eventstore import EventStore, connect
from gamestore.platform.health import depend_on
from gamestore.platform.http import serve
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import on_scrape
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.revocation import Revocations, followed_revocations


@dataclass(frozen=True, slots=True)
class ServiceStorage:
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    revocations: Revocations  # whose access tokens are dead (docs/adr/011)


@contextlib.asynccontextmanager
async def service_storage(
    settings: Settings, service: str, outbox: Table
) -> AsyncIterator[ServiceStorage]:
    """Open ``service``'s database (its schema checked, or migrated where that is allowed:
    src/gamestore/migrations) and the event store, and run the outbox relay and the revocation
    follower in the background; everything is stopped and closed on exit."""
    async with contextlib.AsyncExitStack() as stack:
        engine = await open_database(settings, service)
        stack.push_async_callback(engine.dispose)
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        depend_on(stack, database=lambda: ping(engine), event_store=store.head)
        relay = OutboxRelay(engine, store, outbox, name=service)
        stack.enter_context(on_scrape(relay.sample))
        await stack.enter_async_context(relay.running())
        revocations = await stack.enter_async_context(followed_revocations(store))
        yield ServiceStorage(engine, store, relay, revocations)


def service_address(service: str) -> tuple[str, int]:
    """Where ``service`` listens: the host and port of ``service_url(service)``."""
    address = urlsplit(service_url(service))
    return address.hostname or "127.0.0.1", address.port or SERVICE_PORTS[service]


@dataclass(frozen=True, slots=True)
class Consumer:
    """A bus consumer of a service process: its group, its event types and its handler.

    With ``batch`` set, the bus hands pages of events to it (:meth:`EventBus.consume_batches`:
    one transaction per page amortizes the per-event cost under load); ``handler`` is then the
    same handler one event at a time (what tests drive by hand). Build those with :meth:`pages`.
    """

    group: str
    types: Collection[str]
    handler: EventHandler
    batch: BatchHandler | None = None

    @classmethod
    def pages(cls, group: str, types: Collection[str], batch: BatchHandler) -> Consumer:
        """A consumer fed pages of events by ``batch``."""
        return cls(group, types, one_at_a_time(batch), batch)

    def run(self, bus: EventBus, stop: asyncio.Event) -> Coroutine[Any, Any, None]:
        """Consume on ``bus`` until ``stop`` (pages if it has a batch handler)."""
        if self.batch is not None:
            return bus.consume_batches(self.group, self.types, self.batch, stop=stop)
        return bus.consume(self.group, self.types, self.handler, stop=stop)


async def serve_and_consume(
    app: ASGIApp,
    service: str,
    settings: Settings,
    store: EventStore,
    consumers: Sequence[Consumer],
    stop: asyncio.Event,
) -> None:
    """Serve ``app`` at ``service``'s address and run its bus consumers until ``stop``.

    They live and die together: if a consumer fails (its database or broker is gone), the
    server stops too and the error ends the process, so the supervisor restarts it whole
    instead of leaving an API up whose events nobody handles.
    """
    host, port = service_address(service)
    bus = await connect_bus(settings.bus_url, store)
    try:
        with watching_bus(settings, bus):
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(serve(app, host, port, stop), name=f"{service}-http")
                for consumer in consumers:
                    tasks.create_task(consumer.run(bus, stop), name=consumer.group)
                get_logger(service).info(
                    f"{service} listening and consuming",
                    host=host,
                    port=port,
                    groups=",".join(consumer.group for consumer in consumers),
                )
    finally:
        await bus.close()


@contextlib.contextmanager
def watching_bus(settings: Settings, bus: EventBus) -> Iterator[None]:
    """Readiness waits on the broker while inside, when the bus runs on one (the embedded bus
    is the event store, already watched)."""
    with contextlib.ExitStack() as stack:
        if settings.bus_url != EMBEDDED:
            depend_on(stack, broker=bus.ping)
        yield


@contextlib.asynccontextmanager
async def consuming(
    settings: Settings, store: EventStore, consumers: Sequence[Consumer]
) -> AsyncIterator[None]:
    """Run ``consumers`` in background tasks for the block (in-process tests; a process uses
    :func:`serve_and_consume`, where a failed consumer ends the process)."""
    bus = await connect_bus(settings.bus_url, store)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(consumer.run(bus, stop), name=consumer.group) for consumer in consumers
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.close()
