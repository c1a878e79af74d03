"""What every service process shares: its own database with an outbox, the event store, and
the relay between them running for as long as the service does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.config import SERVICE_PORTS, Settings, service_url
from gamestore.platform.db import create_engine, create_tables
from gamestore.platform.eventstore import EventStore, connect
from gamestore.platform.outbox import OutboxRelay


@dataclass(frozen=True, slots=True)
class ServiceStorage:
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay


@contextlib.asynccontextmanager
async def service_storage(
    settings: Settings, service: str, metadata: MetaData, outbox: Table
) -> AsyncIterator[ServiceStorage]:
    """Open ``service``'s database (creating its tables) and the event store, and run the outbox
    relay in the background; everything is stopped and closed on exit."""
    async with contextlib.AsyncExitStack() as stack:
        engine = create_engine(settings.database_url(service))
        stack.push_async_callback(engine.dispose)
        await create_tables(engine, metadata)
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        relay = OutboxRelay(engine, store, outbox)
        await stack.enter_async_context(relay.running())
        yield ServiceStorage(engine, store, relay)


def service_address(service: str) -> tuple[str, int]:
    """Where ``service`` listens: the host and port of ``service_url(service)``."""
    address = urlsplit(service_url(service))
    return address.hostname or "127.0.0.1", address.port or SERVICE_PORTS[service]
